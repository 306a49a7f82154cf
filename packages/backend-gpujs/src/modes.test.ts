// Traps, residency, caching, memory and training parity in the modes without native parts.
import { Registry, tensor } from '@backprop/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import * as lib from './index.js';
import { defineTrainingTests, defineTrapTests, yieldBetweenTests } from '../test/suites.js';

yieldBetweenTests();
for (const mode of ['cpu', 'webasm'] as const) {
  defineTrapTests(mode, lib);
  defineTrainingTests(mode, lib);
}

describe('webgpu where navigator.gpu has no adapter (headless Chromium without --enable-unsafe-webgpu)', () => {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  afterEach(() => {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete g.navigator;
  });

  it('whyUnavailableAsync says so, and reading a tensor rejects with a GpujsModeError naming the mode and why', async () => {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => null } }, configurable: true, writable: true });
    expect(lib.whyUnavailable('webgpu'), 'navigator.gpu exists: the synchronous check passes').toBeNull();
    expect(await lib.whyUnavailableAsync('webgpu')).toMatch(/requestAdapter\(\) returned null: no WebGPU adapter .*--enable-unsafe-webgpu/);
    expect(await lib.whyUnavailableAsync('cpu')).toBeNull();
    const registry = new Registry().use(lib.gpujsBackend({ mode: 'webgpu' }));
    registry.setBackend('gpujs');
    const t = tensor([1, 2, 3], [3], { registry });
    const error = await t.data().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(lib.GpujsModeError);
    expect(String((error as Error).message)).toMatch(/mode 'webgpu' cannot start here: gpu\.js could not get a WebGPU device: .*no adapter/);
    const backend = registry.backend as lib.GpujsBackend;
    registry.removeBackend('gpujs');
    await backend.whenDisposed();
  });
});
