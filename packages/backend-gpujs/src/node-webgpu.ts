/**
 * WebGPU in Node: gpu.js's webgpu mode looks for `navigator.gpu`, which Node does not
 * have. `installNodeWebGPU()` provides it from the `webgpu` npm package (Dawn, ≥ 0.3.10;
 * the 0.2.9 that gpu.js pins needs glibc 2.38). Without a GPU, Dawn's Vulkan path
 * rejects Mesa's lavapipe, but its OpenGL ES path on llvmpipe works: the adapter is
 * created with `backend=opengles`, requested with `featureLevel: 'compatibility'`, and
 * EGL_PLATFORM defaults to `surfaceless`. headless-gl and Dawn cannot share a process.
 */
import { GpujsModeError, availableModes } from './modes.js';

export interface NodeWebGPUOptions {
  /** Dawn toggles passed to `create()` (default ['backend=opengles']). */
  dawnOptions?: string[];
  /** Adapter feature level (default 'compatibility'). */
  featureLevel?: 'core' | 'compatibility';
}

type GpuLike = { requestAdapter(options?: Record<string, unknown>): Promise<unknown>; wgslLanguageFeatures?: unknown };

/**
 * Defines `globalThis.navigator.gpu` (Node only; a no-op where it already exists) and
 * checks that an adapter answers. Throws GpujsModeError naming why it cannot.
 */
export async function installNodeWebGPU(options: NodeWebGPUOptions = {}): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (!g.navigator?.gpu) {
    if (typeof process === 'undefined' || !process.versions?.node) {
      throw new GpujsModeError('webgpu', 'navigator.gpu is not defined in this browser (Chromium without a GPU needs --enable-unsafe-webgpu)', availableModes());
    }
    process.env.EGL_PLATFORM ??= 'surfaceless';
    let dawn: { create(options: string[]): GpuLike; globals: Record<string, unknown> };
    try {
      const mod = (await import('webgpu')) as unknown as Record<string, unknown>;
      dawn = (typeof mod.create === 'function' ? mod : mod.default) as typeof dawn;
    } catch (error) {
      throw new GpujsModeError('webgpu', `the \`webgpu\` npm package (≥ 0.3.10) cannot be loaded: ${(error as Error).message}`, availableModes());
    }
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create(options.dawnOptions ?? ['backend=opengles']);
    const featureLevel = options.featureLevel ?? 'compatibility';
    const wrapped: GpuLike & Record<string, unknown> = {
      requestAdapter: (o?: Record<string, unknown>) => gpu.requestAdapter({ featureLevel, ...(o ?? {}) }),
      getPreferredCanvasFormat: () => 'rgba8unorm',
      wgslLanguageFeatures: gpu.wgslLanguageFeatures,
    };
    const nav = g.navigator ?? {};
    Object.defineProperty(nav, 'gpu', { value: wrapped, configurable: true, enumerable: true });
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  }
  const adapter = await (g.navigator as { gpu: GpuLike }).gpu.requestAdapter();
  if (!adapter) {
    throw new GpujsModeError('webgpu', 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter; in Node Dawn needs Mesa EGL/GLES: Debian libegl1 libgles2 libegl-mesa0)', availableModes());
  }
}
