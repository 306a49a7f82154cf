// The backend on 2 threads (worker_threads on one shared memory; the conformance suite is in
// conformance.test.ts beside this file): outputs
// bit-identical to 1 thread for every kernel that splits (on shapes big enough to split, with the
// work checked to have reached a worker), a short training run with bit-identical weights, memory
// back to its baseline, workers that cannot start reported while the backend goes on on one
// thread, and dispose() stopping the workers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as ops from '@backprop/tensor';
import { createRandom, Registry, type Tensor } from '@backprop/tensor';
import { layersPlugin, paperNetwork } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { WasmBackend, wasmBackendWithOptions, wasmBuildInfo } from '../index.js';
import { recordSplitExports } from '../testUtil.js';

const registries: Registry[] = [];
afterEach(() => {
  for (const registry of registries.splice(0)) registry.removeBackend('wasm');
  vi.unstubAllGlobals();
});

/** A registry on the wasm backend with `threads`, its workers started. */
async function onThreads(threads: number): Promise<{ registry: Registry; backend: WasmBackend }> {
  const registry = new Registry().use(wasmBackendWithOptions({ threads }), layersPlugin, lossesPlugin, optimizersPlugin);
  registries.push(registry);
  const backend = registry.setBackend('wasm') as WasmBackend;
  await expect(backend.threadsReady).resolves.toEqual({ threads, warnings: [] });
  return { registry, backend };
}

/** n values uniform in [-1, 1), a fraction `zeros` of them 0. */
function values(n: number, seed: number, zeros = 0): Float32Array {
  const rng = createRandom(seed);
  return Float32Array.from({ length: n }, () => (rng.uniform(0, 1) < zeros ? 0 : rng.uniform(-1, 1)));
}

/** A kernel call big enough to split, and for the kernels with two paths, the export that must run. */
type Case = [title: string, run: (registry: Registry) => Tensor, path?: string];
const t = (registry: Registry, shape: number[], seed: number, zeros = 0) => ops.tensor(values(shape.reduce((a, b) => a * b), seed, zeros), shape, { registry });
const conv = { strides: [1, 1] as [number, number], pad: [2, 2] as [number, number] };
// Batches of 13 and 10: parts of unequal size, and a last chunk of the filter gradient's sums shorter than the others.
const cases: Case[] = [
  ['matMul (columns of C)', (r) => ops.matMul(t(r, [96, 300], 1), t(r, [300, 200], 2))],
  ['matMul, Bᵀ with bias and ReLU (rows of C)', (r) => ops.matMul(t(r, [257, 300], 3), t(r, [20, 300], 4), { transposeB: true, bias: t(r, [20], 5), activation: 'relu' })],
  ['conv2d with bias and ReLU', (r) => ops.conv2d(t(r, [13, 8, 24, 24], 6), t(r, [16, 8, 5, 5], 7), { ...conv, bias: t(r, [16], 8), activation: 'relu' }), 'conv2d_f32'],
  // 3×3 stride 1: Winograd, in groups of 15 images (512 tiles) within each part.
  ['conv2d 3×3 (Winograd) with bias and ReLU', (r) => ops.conv2d(t(r, [29, 16, 13, 13], 15), t(r, [64, 16, 3, 3], 16), { strides: 1, pad: 0, bias: t(r, [64], 17), activation: 'relu' }), 'conv2dWinograd_f32'],
  ['conv2dBackwardInput', (r) => ops.conv2dBackwardInput(t(r, [13, 16, 24, 24], 9), t(r, [16, 8, 5, 5], 10), [13, 8, 24, 24], conv)],
  ['conv2dBackwardFilter (GEMM)', (r) => ops.conv2dBackwardFilter(t(r, [10, 8, 24, 24], 11), t(r, [10, 16, 24, 24], 12), [16, 8, 5, 5], conv), 'conv2dBackwardFilter_f32'],
  ['conv2dBackwardFilter (sparse dy)', (r) => ops.conv2dBackwardFilter(t(r, [10, 8, 24, 24], 13), t(r, [10, 16, 24, 24], 14, 0.9), [16, 8, 5, 5], conv), 'conv2dBackwardFilterSparse_f32'],
  ['biasGrad', (r) => ops.biasGrad(t(r, [42, 16, 64, 64], 15))],
  ['maxPool 2×2', (r) => ops.maxPool(t(r, [40, 16, 64, 64], 16), { poolSize: 2 })],
  ['maxPool 3×3 stride 2', (r) => ops.maxPool(t(r, [33, 16, 65, 65], 17), { poolSize: 3, strides: 2 })],
  ['maxPoolBackward 2×2', (r) => ops.maxPoolBackward(t(r, [40, 16, 32, 32], 18), t(r, [40, 16, 64, 64], 19), { poolSize: 2 })],
  ['avgPool 3×3 stride 2', (r) => ops.avgPool(t(r, [33, 16, 65, 65], 20), { poolSize: 3, strides: 2 })],
  ['avgPoolBackward 3×3 stride 2', (r) => ops.avgPoolBackward(t(r, [33, 16, 32, 32], 21), [33, 16, 65, 65], { poolSize: 3, strides: 2 })],
  ['l2Pool 3×3 stride 2', (r) => ops.l2Pool(t(r, [33, 16, 65, 65], 22), { poolSize: 3, strides: 2 })],
];

describe('threads: 2 gives the bits of threads: 1', () => {
  for (const [title, run, path] of cases) {
    it(title, async () => {
      const one = await onThreads(1);
      const two = await onThreads(2);
      expect(one.backend.threads).toBe(1);
      const [ranOne, ranTwo] = [recordSplitExports(one.backend), recordSplitExports(two.backend)];
      const want = run(one.registry).dataSync();
      const splitBefore = two.backend.pool!.splitJobs;
      const got = run(two.registry).dataSync();
      // The kernel really handed work to the worker, on the path the case is about.
      expect(two.backend.pool!.splitJobs).toBeGreaterThan(splitBefore);
      if (path !== undefined) {
        expect(new Set(ranOne)).toEqual(new Set([path]));
        expect(ranTwo).toEqual([path, path]);
      }
      expect(got.length).toBe(want.length);
      let differing = 0;
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differing++;
      expect(differing).toBe(0);
    });
  }
});

/** `count` 28×28 images of random blobs (seeded) and labels 0/1. */
function data(count: number) {
  const rng = createRandom(7);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform(0, 1) < 0.2 ? rng.uniform(0.5, 1) : 0;
  return { x: { values: images, shape: [count, 1, 28, 28] }, y: { values: Uint8Array.from({ length: count }, (_, i) => i % 2), shape: [count] } };
}

describe('training on threads', () => {
  it('the paper preset trained on 2 threads ends with the weights of 1 thread, bit for bit, and memory at its baseline', async () => {
    const { x, y } = data(4 * 32);
    const weights: Float32Array[][] = [];
    for (const threads of [1, 2]) {
      const { registry, backend } = await onThreads(threads);
      const before = registry.memory();
      const split = backend.pool?.splitJobs ?? 0;
      const { model, loss, optimizer } = paperNetwork({ registry, seed: 3 });
      await model.fit(x, y, { loss, optimizer, epochs: 1, batchSize: 32, seed: 1 });
      weights.push(model.getWeights().map((w) => Float32Array.from(w.values)));
      model.dispose();
      expect(registry.memory()).toMatchObject({ numTensors: before.numTensors, numDataBuffers: before.numDataBuffers, numBytes: before.numBytes });
      if (threads === 2) expect(backend.pool!.splitJobs).toBeGreaterThan(split);
    }
    expect(weights[1].length).toBe(weights[0].length);
    weights[0].forEach((w, i) => expect(Buffer.from(weights[1][i].buffer).equals(Buffer.from(w.buffer)), `weight ${i}`).toBe(true));
  });
});

describe('threads that cannot run', () => {
  it('a worker that cannot start is reported (threadWarnings, wasmBuildInfo) and the kernels run correct on one thread', async () => {
    // A Worker that throws on creation: the pool takes the Web Worker path and the start fails.
    vi.stubGlobal('Worker', class {
      constructor() {
        throw new Error('no workers here');
      }
    });
    const registry = new Registry().use(wasmBackendWithOptions({ threads: 2 }));
    registries.push(registry);
    const backend = registry.setBackend('wasm') as WasmBackend;
    const status = await backend.threadsReady;
    expect(status.threads).toBe(1);
    expect(status.warnings).toEqual(['worker 1 did not start: Error: no workers here; its share of the work runs on the main thread']);
    expect(wasmBuildInfo(backend)).toMatchObject({ threads: 1, warnings: status.warnings });
    const one = await onThreads(1);
    const a = values(96 * 300, 1), b = values(300 * 200, 2);
    const got = ops.matMul(ops.tensor(a, [96, 300], { registry }), ops.tensor(b, [300, 200], { registry })).dataSync();
    const want = ops.matMul(ops.tensor(a, [96, 300], { registry: one.registry }), ops.tensor(b, [300, 200], { registry: one.registry })).dataSync();
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('without SharedArrayBuffer (a page that is not cross-origin isolated) the backend says why and runs on one thread', () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const registry = new Registry().use(wasmBackendWithOptions({ threads: 4 }));
    registries.push(registry);
    const backend = registry.setBackend('wasm') as WasmBackend;
    expect(backend.pool).toBeNull();
    expect(backend.threads).toBe(1);
    expect(backend.threadWarnings).toEqual([expect.stringMatching(/^threads: 4 were asked for, the kernels run on 1: SharedArrayBuffer is not available .*COOP and COEP/)]);
    expect(Array.from(ops.add(ops.tensor([1, 2], [2], { registry }), ops.tensor([3, 4], [2], { registry })).dataSync())).toEqual([4, 6]);
  });
});

describe('the thread pool of a backend', () => {
  it('wasmBuildInfo reports the threads running', async () => {
    const { backend } = await onThreads(3);
    expect(wasmBuildInfo(backend)).toMatchObject({ threads: 3, warnings: [] });
    expect(wasmBuildInfo({ threads: 3 }).threads).toBe(3);
  });

  it('dispose() stops the workers: `exited`, taken before, resolves once their threads have exited; the memory is shared and has the maximum asked for', async () => {
    const registry = new Registry().use(wasmBackendWithOptions({ threads: 3, maxMemoryBytes: 64 * 2 ** 20 }));
    const backend = registry.setBackend('wasm') as WasmBackend;
    await backend.threadsReady;
    expect(backend.linearMemory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(backend.linearMemory.buffer.byteLength).toBeLessThanOrEqual(64 * 2 ** 20);
    expect(() => backend.linearMemory.grow(64 * 16 + 1)).toThrow(RangeError);
    expect(backend.threads).toBe(3);
    const exited = backend.pool!.exited;
    let settled = false;
    void exited.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled, 'pending while the workers run').toBe(false);
    registry.removeBackend('wasm');
    // Resolves on the workers' 'exit' events: a worker that kept running would time this test out.
    await expect(exited).resolves.toBe(2);
    expect(backend.threads).toBe(1);
  });

  it('exhausting a shared memory is a WasmMemoryError, as on one thread', async () => {
    const registry = new Registry().use(wasmBackendWithOptions({ threads: 2, maxMemoryBytes: 4 * 2 ** 20, initialMemoryBytes: 2 ** 20 }));
    registries.push(registry);
    registry.setBackend('wasm');
    expect(() => ops.zeros([2 * 2 ** 20], { registry })).toThrow(/^write: out of wasm linear memory allocating a float32 tensor of shape \[2097152\] \(8388608 bytes\): the limit is 4194304 bytes \(maxMemoryBytes\)/);
    expect(() => ops.zeros([2 * 2 ** 20], { registry })).toThrow(expect.objectContaining({ name: 'WasmMemoryError' }));
  });
});
