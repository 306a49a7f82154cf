/**
 * The wasm backend trains the presets (packages/layers/src/presets.ts) like the CPU
 * reference: per-step losses and the trained weights agree to float32 rounding, and a
 * training step leaves the backend's memory at its baseline.
 */
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '@backprop/backend-cpu';
import { layersPlugin, lenet, paperNetwork, type Preset } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { createRandom, Registry, type Plugin } from '@backprop/tensor';
import { expectArraysClose } from '@backprop/tensor/testing';
import { WasmBackend, wasmBackend } from './index.js';

type PresetFn = (options: { registry: Registry; seed: number }) => Preset;

/** `count` 28×28 images of random blobs (seeded) and labels 0..9. */
function data(count: number) {
  const rng = createRandom(7);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform(0, 1) < 0.2 ? rng.uniform(0.5, 1) : 0;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { x: { values: images, shape: [count, 1, 28, 28] }, y: { values: labels, shape: [count] } };
}

function registryOn(plugin: Plugin, name: string): Registry {
  const registry = new Registry().use(plugin, layersPlugin, lossesPlugin, optimizersPlugin);
  registry.setBackend(name);
  return registry;
}

async function train(preset: PresetFn, plugin: Plugin, name: string, steps: number, batchSize: number) {
  const registry = registryOn(plugin, name);
  const { model, loss, optimizer } = preset({ registry, seed: 3 });
  const { x, y } = data(steps * batchSize);
  const losses: number[] = [];
  await model.fit(x, y, { loss, optimizer, epochs: 1, batchSize, seed: 1, callbacks: { onBatchEnd: (l) => void losses.push(l.loss) } });
  const weights = model.getWeights();
  model.dispose();
  registry.removeBackend(name);
  return { losses, weights };
}

describe('training the presets on the wasm backend agrees with the cpu backend', () => {
  const cases: [string, PresetFn, number][] = [
    ['paper (conv 8@5×5, max pool, dense, sigmoid + BCE, SGD lr 1)', paperNetwork, 6],
    ['lenet (two conv/pool stages, softmax + CE, Adam)', lenet, 4],
  ];
  for (const [title, preset, steps] of cases) {
    it(`${title}: ${steps} steps of 16`, async () => {
      const cpu = await train(preset, cpuBackend, 'cpu', steps, 16);
      const wasm = await train(preset, wasmBackend, 'wasm', steps, 16);
      expect(wasm.losses.length).toBe(steps);
      cpu.losses.forEach((l, i) => {
        expect(Math.abs(wasm.losses[i] - l) / Math.abs(l), `step ${i + 1}: cpu ${l}, wasm ${wasm.losses[i]}`).toBeLessThanOrEqual(1e-4);
      });
      expect(wasm.weights.map((w) => w.name)).toEqual(cpu.weights.map((w) => w.name));
      wasm.weights.forEach((w, i) => {
        // float32 rounding differs (summation order); after a few steps weights agree to ~1e-6 of their scale.
        expectArraysClose(w.values, cpu.weights[i].values, { rtol: 1e-3, atol: 1e-5, label: w.name });
      });
    });
  }

  it('a training step of the paper network leaves memory at its baseline, and the heap stops growing', async () => {
    const registry = registryOn(wasmBackend, 'wasm');
    const backend = registry.backend as WasmBackend;
    const { x, y } = data(16);
    const before = registry.memory();
    const heaps: number[] = [];
    for (let round = 0; round < 3; round++) {
      const { model, loss, optimizer } = paperNetwork({ registry, seed: 3 });
      await model.fit(x, y, { loss, optimizer, epochs: 1, batchSize: 16, seed: 1 });
      model.dispose();
      expect(registry.memory(), `round ${round + 1}`).toMatchObject({
        numTensors: before.numTensors, numDataBuffers: before.numDataBuffers, numBytes: before.numBytes,
      });
      heaps.push(backend.memoryInfo().heapBytes);
    }
    // Freed blocks (weights, activations, gradients, kernel scratch) are reused by the next round.
    expect(heaps[2]).toBe(heaps[1]);
    registry.removeBackend('wasm');
  });
});
