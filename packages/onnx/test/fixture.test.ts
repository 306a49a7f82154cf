import { readFileSync } from 'node:fs';
import type { Conv2D, Dense } from '@backprop/layers';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fromOnnx } from '../src/index.js';
import { registry } from './models.js';

/** Made by fixtures/make_fixture.py with onnx.helper (ONNX 1.12, Debian), not by Backprop's exporter. */
const bytes = readFileSync(new URL('../fixtures/fixture.onnx', import.meta.url));
const expected = JSON.parse(readFileSync(new URL('../fixtures/fixture-expected.json', import.meta.url), 'utf8')) as {
  inputShape: number[];
  inputs: number[];
  outputShape: number[];
  outputs: number[];
  classNames: string[];
};
const TOLERANCE = 1e-5;

function maxDiff(actual: ArrayLike<number>, reference: readonly number[]): number {
  expect(actual.length).toBe(reference.length);
  let max = 0;
  for (let i = 0; i < reference.length; i++) max = Math.max(max, Math.abs(actual[i] - reference[i]));
  return max;
}

describe('a model written by onnx.helper (fixtures/make_fixture.py)', () => {
  it('fromOnnx reads it and predicts the expected outputs within 1e-5; onnxruntime-node agrees', async () => {
    const { model, classNames } = fromOnnx(bytes, { registry });
    try {
      expect(classNames).toEqual(expected.classNames);
      expect(model.inputShape).toEqual([1, 8, 8]);
      expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'MaxPool2D', 'Flatten', 'Dense']);
      expect((model.layers[0] as Conv2D).activation).toBe('relu');
      expect((model.layers[3] as Dense).activation).toBe('softmax');
      const input = { values: Float32Array.from(expected.inputs), shape: expected.inputShape };
      const out = model.predict(input);
      expect(out.shape).toEqual(expected.outputShape);
      const backprop = out.dataSync();
      out.dispose();
      const backpropDiff = maxDiff(backprop, expected.outputs);

      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const result = await session.run({ input: new ort.Tensor('float32', input.values, expected.inputShape) });
      await session.release();
      const ortDiff = maxDiff(result.output.data as Float32Array, expected.outputs);
      const agreement = maxDiff(backprop, Array.from(result.output.data as Float32Array));
      console.log(`fixture: max |Δ| fromOnnx vs expected ${backpropDiff.toExponential(2)}, onnxruntime vs expected ${ortDiff.toExponential(2)}, fromOnnx vs onnxruntime ${agreement.toExponential(2)}`);
      expect(backpropDiff).toBeLessThanOrEqual(TOLERANCE);
      expect(ortDiff).toBeLessThanOrEqual(TOLERANCE);
      expect(agreement).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      model.dispose();
    }
  });
});
