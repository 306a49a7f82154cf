/**
 * The gpu.js modes this backend can run in, how to tell whether each works in the
 * current environment, and the error thrown when a requested mode cannot start.
 * Nothing here falls back: a mode either starts as asked or throws.
 */
import gpujs from 'gpu.js';

const { GPU } = gpujs;

/** Every mode gpu.js 2.24 has, plus 'auto'. */
export const GPUJS_MODES = ['webgl2', 'webgl', 'webgpu', 'headlessgl', 'webasm', 'cpu'] as const;
export type GpujsConcreteMode = (typeof GPUJS_MODES)[number];
export type GpujsMode = GpujsConcreteMode | 'auto';

/** Order in which 'auto' tries the modes: real GPUs first, then WebAssembly, then plain JS. */
export const AUTO_ORDER: readonly GpujsConcreteMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

export class GpujsModeError extends Error {
  constructor(
    readonly mode: string,
    readonly reason: string,
    readonly available: readonly GpujsConcreteMode[],
  ) {
    super(
      `@backprop/backend-gpujs: mode '${mode}' cannot start here: ${reason.replace(/\.+$/, '')}. ` +
        `Modes that work in this environment: ${available.length ? available.join(', ') : '(none)'}.`,
    );
    this.name = 'GpujsModeError';
  }
}

type Navigator = { gpu?: unknown };
const nav = (): Navigator | undefined => (globalThis as { navigator?: Navigator }).navigator;
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Why `mode` cannot run here, or null when it can (synchronous checks only). */
export function whyUnavailable(mode: GpujsConcreteMode): string | null {
  switch (mode) {
    case 'cpu':
      return null;
    case 'webasm':
      return GPU.isWebAssemblySupported ? null : 'WebAssembly is not available in this JavaScript engine';
    case 'headlessgl':
      if (!isNode) return 'headless-gl only exists in Node (use webgl2 or webgl in a browser)';
      if (GPU.isHeadlessGLSupported) return null;
      return (
        'the optional `gl` package could not create a WebGL context: either it is not installed/built ' +
        '(Debian needs libxi-dev before `pnpm install`, and gl must be allowed to run its build script; ' +
        'then `pnpm rebuild gl`), or there is no X display (run under `xvfb-run -a`)'
      );
    case 'webgl2':
      if (isNode) return 'WebGL2 needs a browser (in Node use headlessgl)';
      return GPU.isWebGL2Supported ? null : 'this browser has no WebGL2 context with float textures';
    case 'webgl':
      if (isNode) return 'WebGL needs a browser (in Node use headlessgl)';
      return GPU.isWebGLSupported ? null : 'this browser has no WebGL context';
    case 'webgpu':
      if (!nav()?.gpu) {
        return isNode
          ? 'navigator.gpu is not defined: install the `webgpu` npm package (≥ 0.3.10) and call ' +
              '`await installNodeWebGPU()` before creating the backend; it provides navigator.gpu from Dawn'
          : 'navigator.gpu is not defined (Chromium needs --enable-unsafe-webgpu without a GPU)';
      }
      return null;
  }
}

/**
 * Why `mode` cannot run here, or null when it can, asking the device where only that
 * answers: for webgpu, `navigator.gpu` can exist with no adapter behind it (headless
 * Chromium without `--enable-unsafe-webgpu`), which only `requestAdapter()` tells.
 */
export async function whyUnavailableAsync(mode: GpujsConcreteMode): Promise<string | null> {
  const why = whyUnavailable(mode);
  if (why !== null || mode !== 'webgpu') return why;
  try {
    const adapter = await (nav()!.gpu as { requestAdapter(): Promise<unknown> }).requestAdapter();
    return adapter ? null : 'navigator.gpu.requestAdapter() returned null: no WebGPU adapter (Chromium without a GPU needs --enable-unsafe-webgpu)';
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${(error as Error).message}`;
  }
}

/** The modes whose synchronous checks pass here. */
export function availableModes(): GpujsConcreteMode[] {
  return GPUJS_MODES.filter((m) => whyUnavailable(m) === null);
}

/** Resolves 'auto' and validates a concrete mode; throws GpujsModeError. */
export function resolveMode(mode: GpujsMode): GpujsConcreteMode {
  if (mode === 'auto') {
    for (const m of AUTO_ORDER) if (whyUnavailable(m) === null) return m;
    throw new GpujsModeError('auto', 'no gpu.js mode is available', availableModes());
  }
  if (!(GPUJS_MODES as readonly string[]).includes(mode)) {
    throw new GpujsModeError(String(mode), `unknown mode; gpu.js 2.24 has ${GPUJS_MODES.join(', ')} (and 'auto')`, availableModes());
  }
  const why = whyUnavailable(mode);
  if (why !== null) throw new GpujsModeError(mode, why, availableModes());
  return mode;
}
