/**
 * Test suites shared by every mode's test file: the gpu.js traps, device residency and
 * memory, kernel caching, clean disposal, and training parity with the CPU backend.
 * Every value is read with `await data()`, so the same suites run in webgpu mode.
 */
import { cpuBackend } from '@backprop/backend-cpu';
import { loadMnist } from '@backprop/datasets';
import { layersPlugin, paperNetwork } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import * as ops from '@backprop/tensor';
import { type Plugin, Registry, matMul, sum, tensor } from '@backprop/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { GpujsBackend, GpujsData, GpujsKernelError, type GpujsConcreteMode } from '../src/index.js';

type GpujsExports = typeof import('../src/index.js');

/** Lets the event loop breathe between tests, so vitest's worker RPC is answered (its 60 s timeout). */
export function yieldBetweenTests(): void {
  afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
}

/** Removes a backend and, for gpujs, waits for its teardown (webgpu releases its device after its queue drains). */
async function removeGpujs(registry: Registry, name = 'gpujs'): Promise<void> {
  const backend = registry.findBackend(name);
  registry.removeBackend(name);
  if (backend instanceof GpujsBackend || typeof (backend as { whenDisposed?: unknown }).whenDisposed === 'function') {
    await (backend as GpujsBackend).whenDisposed();
  }
}

function registryFor(lib: GpujsExports, mode: GpujsConcreteMode, extra: Plugin[] = []): Registry {
  const registry = new Registry().use(lib.gpujsBackend({ mode }), ...extra);
  registry.setBackend('gpujs');
  return registry;
}

/** gpu.js 2.24 traps, kernel caching, residency and disposal. `lib` is src or the built dist. */
export function defineTrapTests(mode: GpujsConcreteMode, lib: GpujsExports, label = 'src'): void {
  describe(`gpu.js traps and device behaviour (${mode}, ${label})`, () => {
    it('a reduction longer than loopMaxIterations (1000) is complete: sum of 2500 and a 3000-long dot product', async () => {
      const registry = registryFor(lib, mode);
      const n = 2500;
      const x = tensor(new Float32Array(n).fill(1), [n], { registry });
      expect((await sum(x).data())[0]).toBe(n);
      const k = 3000;
      const a = tensor(new Float32Array(k).fill(0.5), [1, k], { registry });
      const b = tensor(new Float32Array(k).fill(2), [k, 1], { registry });
      expect((await matMul(a, b).data())[0]).toBe(k);
      await removeGpujs(registry);
    });

    it('pipelined results are immutable: a second call of the same cached kernel does not overwrite the first', async () => {
      const registry = registryFor(lib, mode);
      const backend = registry.backend as GpujsBackend;
      const a = tensor([1, 2, 3], [3], { registry });
      const first = ops.addScalar(a, 10);
      const compiles = backend.compiles;
      const second = ops.addScalar(a, 20);
      expect(backend.compiles, 'the second call reuses the cached kernel (scalar is a parameter)').toBe(compiles);
      expect(Array.from(await first.data())).toEqual([11, 12, 13]);
      expect(Array.from(await second.data())).toEqual([21, 22, 23]);
      await removeGpujs(registry);
    });

    it('results stay on the device between kernels and are read back only on data()/dataSync()', async () => {
      const registry = registryFor(lib, mode);
      const backend = registry.backend as GpujsBackend;
      const x = tensor([1, -2, 3, -4], [2, 2], { registry });
      const y = ops.relu(ops.mulScalar(x, 2));
      const data = y.dataId as GpujsData;
      expect(backend.canReadSync, 'only webgpu reads asynchronously only').toBe(mode !== 'webgpu');
      expect(y.canReadSync).toBe(backend.canReadSync);
      if (backend.onDevice) {
        // webgpu: the handle is the kernel's promised result, queued in program order.
        const handle = data.handle ?? (await data.pending);
        expect(handle, 'a device texture or buffer, not a host array').not.toBeInstanceOf(Float32Array);
        expect(typeof (handle as { delete?: unknown }).delete).toBe('function');
      }
      expect(data.host, 'no host copy').toBeNull();
      expect(Array.from(await y.data())).toEqual([2, 0, 6, 0]);
      await removeGpujs(registry);
    });

    it("kernels compile with precision 'single', pipeline and immutable; one compile per (kernel, shapes, attrs)", async () => {
      const registry = registryFor(lib, mode);
      const backend = registry.backend as GpujsBackend;
      const a = tensor([1, 2, 3, 4], [2, 2], { registry });
      ops.matMul(a, a);
      const c0 = backend.compiles;
      ops.matMul(a, a);
      ops.matMul(a, a);
      expect(backend.compiles, 'cached by shape').toBe(c0);
      ops.matMul(a, a, { transposeB: true });
      expect(backend.compiles, 'new attrs compile a new kernel').toBe(c0 + 1);
      const b = tensor([1, 2, 3, 4, 5, 6], [3, 2], { registry });
      const c1 = backend.compiles;
      ops.matMul(b, a);
      expect(backend.compiles, 'new shapes compile a new kernel').toBe(c1 + 1);
      const kernels = (backend as unknown as { kernels: Map<string, { kernel: { precision: string; pipeline: boolean; immutable: boolean } }> }).kernels;
      for (const k of kernels.values()) {
        expect(k.kernel.precision).toBe('single');
        expect(k.kernel.pipeline).toBe(true);
        expect(k.kernel.immutable).toBe(true);
      }
      await removeGpujs(registry);
    });

    it('every program passes fewer than 8 array arguments (gpu.js webgpu limit)', () => {
      expect(lib.MAX_KERNEL_ARRAY_ARGS).toBeLessThan(8);
    });

    it('a gpu.js compile error names the Backprop kernel and its shapes', async () => {
      const backend = new lib.GpujsBackend({ mode });
      const x = backend.write(new Float32Array([1, 2]), [2], 'float32') as GpujsData;
      const bad = { kernel: 'myKernel', key: 'bad', detail: 'x[2]', args: ['x'], body: 'return undefinedThing[this.thread.x];', size: 2 };
      let error: unknown;
      try {
        // webgpu compiles on the first (queued) call: the error arrives with the read.
        await backend.read(backend.run(bad, [x], 'float32'));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(lib.GpujsKernelError);
      expect(String((error as Error).message)).toMatch(/kernel 'myKernel' \(x\[2\]\) failed in gpu\.js/);
      expect(String((error as Error).message)).toContain(`(${mode})`);
      backend.dispose();
      await backend.whenDisposed();
      void GpujsKernelError;
    });

    it('dispose frees device memory, and backend.dispose destroys every cached kernel', async () => {
      const registry = registryFor(lib, mode);
      const backend = registry.backend as GpujsBackend;
      const base = registry.memory();
      const x = tensor([1, 2, 3], [3], { registry });
      const t = ops.exp(x);
      const data = t.dataId as GpujsData;
      const handle = (data.handle ?? (await data.pending)) as { delete?: () => void } | Float32Array;
      let deleted = 0;
      if (backend.onDevice && !(handle instanceof Float32Array) && handle.delete) {
        const original = handle.delete.bind(handle);
        handle.delete = () => {
          deleted++;
          original();
        };
      }
      expect(registry.memory().numDataBuffers).toBe(base.numDataBuffers + 2);
      registry.scope(() => {
        ops.exp(ops.exp(t));
      });
      t.dispose();
      x.dispose();
      await backend.flush(); // webgpu deletes in queue order, after every earlier reader
      if (backend.onDevice) expect(deleted, 'the texture was deleted').toBe(1);
      const m = registry.memory();
      expect([m.numTensors, m.numDataBuffers, m.numBytes]).toEqual([base.numTensors, base.numDataBuffers, base.numBytes]);
      expect(backend.numKernels).toBeGreaterThan(0);
      registry.removeBackend('gpujs');
      expect(backend.numKernels).toBe(0);
      await backend.whenDisposed();
    });

    it('a mode that cannot start throws, naming the mode, why, and the modes that work', () => {
      const unavailable = (['webgl2', 'webgl', 'headlessgl', 'webgpu'] as const).filter((m) => lib.whyUnavailable(m) !== null);
      for (const m of unavailable) {
        expect(() => lib.createGpujsBackend({ mode: m })).toThrow(lib.GpujsModeError);
        expect(() => new Registry().use(lib.gpujsBackend({ mode: m }))).toThrow(new RegExp(`mode '${m}' cannot start here: .+ Modes that work in this environment: .*cpu`));
      }
      expect(() => lib.createGpujsBackend({ mode: 'nope' as never })).toThrow(/unknown mode/);
    });
  });
}

/** Builds the paper network on `plugin`'s backend. */
function paperOn(plugin: Plugin, backendName: string, seed = 1) {
  const registry = new Registry().use(plugin, layersPlugin, lossesPlugin, optimizersPlugin);
  registry.setBackend(backendName);
  return { registry, ...paperNetwork({ registry, seed }) };
}

/** Training: memory back to baseline after 100 steps; per-step losses equal to the CPU backend's on real MNIST. */
export function defineTrainingTests(mode: GpujsConcreteMode, lib: GpujsExports, options: { memorySteps?: number; paritySteps?: number } = {}): void {
  const memorySteps = options.memorySteps ?? 100;
  const paritySteps = options.paritySteps ?? 50;
  describe(`training the paper's network (${mode})`, () => {
    it(`${memorySteps} training steps leave memory at its baseline`, async () => {
      const { registry, model, loss, optimizer } = paperOn(lib.gpujsBackend({ mode }), 'gpujs');
      const batch = 8;
      const n = batch * 10;
      const images = new Float32Array(n * 784);
      for (let i = 0; i < images.length; i++) images[i] = ((i * 7919) % 255) / 255;
      const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
      const before = registry.memory();
      const kernelsBefore = (registry.backend as GpujsBackend).numKernels;
      await model.fit({ values: images, shape: [n, 1, 28, 28] }, { values: labels, shape: [n] }, {
        loss, optimizer, epochs: memorySteps / 10, batchSize: batch, seed: 1,
      });
      const after = registry.memory();
      expect({ t: after.numTensors, b: after.numDataBuffers, bytes: after.numBytes }).toEqual({
        t: before.numTensors, b: before.numDataBuffers, bytes: before.numBytes,
      });
      const backend = registry.backend as GpujsBackend;
      expect(backend.numKernels, 'kernels are cached, not recompiled per step').toBeLessThan(kernelsBefore + 60);
      model.dispose();
      await removeGpujs(registry);
    });

    it(`${paritySteps} steps on real MNIST (seed 1, batch 32): per-step loss within 1e-3 of the CPU backend`, async () => {
      const count = paritySteps * 32;
      const { train } = await loadMnist({ trainLimit: count, testLimit: 1 });
      const x = { values: train.images, shape: [count, 1, 28, 28] };
      const y = { values: train.labels, shape: [count] };
      const run = async (plugin: Plugin, name: string): Promise<{ losses: number[]; seconds: number }> => {
        const { registry, model, loss, optimizer } = paperOn(plugin, name, 1);
        const losses: number[] = [];
        const started = performance.now();
        await model.fit(x, y, { loss, optimizer, epochs: 1, batchSize: 32, seed: 1, callbacks: { onBatchEnd: (l) => void losses.push(l.loss) } });
        const seconds = (performance.now() - started) / 1000;
        model.dispose();
        await removeGpujs(registry, name);
        return { losses, seconds };
      };
      const cpu = await run(cpuBackend, 'cpu');
      const gpu = await run(lib.gpujsBackend({ mode }), 'gpujs');
      console.log(
        `gpujs ${mode}: ${paritySteps} MNIST steps at ${(count / gpu.seconds).toFixed(0)} samples/s (cpu backend ${(count / cpu.seconds).toFixed(0)}); ` +
          `max relative loss difference ${Math.max(...cpu.losses.map((l, i) => Math.abs(l - gpu.losses[i]) / Math.abs(l))).toExponential(2)}`,
      );
      expect(gpu.losses.length).toBe(paritySteps);
      cpu.losses.forEach((l, i) => {
        expect(Math.abs(gpu.losses[i] - l) / Math.abs(l), `step ${i + 1}: cpu ${l}, gpujs ${gpu.losses[i]}`).toBeLessThanOrEqual(1e-3);
      });
      expect(cpu.losses[paritySteps - 1]).toBeLessThan(cpu.losses[0]);
    });
  });
}
