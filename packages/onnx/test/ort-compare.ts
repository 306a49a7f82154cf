import type { Sequential } from '@backprop/layers';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { fromOnnx } from '../src/index.js';
import { registry } from './models.js';

/** A seeded uniform generator in [−1, 1), so the tests are deterministic. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  };
}

/**
 * Imports `bytes` with fromOnnx and runs them in onnxruntime-node on the same seeded batch of
 * 3 inputs of `sampleShape` (graph input 'x', output 'y'); `inspect` sees the imported model
 * before it is disposed. Returns the max |Δ| between the two.
 */
export async function compareWithOnnxRuntime(bytes: Uint8Array, sampleShape: number[], inspect: (model: Sequential) => void = () => {}): Promise<number> {
  const r = rng(9);
  const x = Float32Array.from({ length: 3 * sampleShape.reduce((a, b) => a * b, 1) }, r);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { model } = fromOnnx(bytes, { registry });
  try {
    inspect(model);
    const result = await session.run({ x: new ort.Tensor('float32', x, [3, ...sampleShape]) });
    const y = model.predict({ values: x, shape: [3, ...sampleShape] });
    expect(y.shape).toEqual(result.y.dims);
    const ours = y.dataSync();
    y.dispose();
    const theirs = result.y.data as Float32Array;
    let diff = 0;
    for (let i = 0; i < theirs.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
    return diff;
  } finally {
    model.dispose();
    await session.release();
  }
}
