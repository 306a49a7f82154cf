import { loadMnist, type MnistData } from '@backprop/datasets';
import { lenet, lenetBn, paperNetwork, type Sequential } from '@backprop/layers';
import type { ComponentJSON } from '@backprop/tensor';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { toOnnx } from '../src/index.js';
import { everyLayerModel, normalizedModel, registry } from './models.js';

const TRAIN = 500;
const TEST = 1000;
const TOLERANCE = 1e-5;

let mnist: MnistData;
beforeAll(async () => {
  mnist = await loadMnist({ trainLimit: TRAIN, testLimit: TEST });
});

function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

/** Trains briefly on real MNIST, exports, runs the bytes in ONNX Runtime on 1,000 test images and compares with predict. */
async function checkAgainstOnnxRuntime(name: string, model: Sequential, loss: ComponentJSON, optimizer: ComponentJSON, epochs: number): Promise<number> {
  const { train, test } = mnist;
  await model.fit({ values: train.images, shape: [train.count, 1, 28, 28] }, { values: train.labels, shape: [train.count] }, {
    loss,
    optimizer,
    epochs,
    batchSize: 32,
    seed: 1,
  });
  const input = { values: test.images, shape: [test.count, 1, 28, 28] };
  const predicted = model.predict(input);
  const expected = predicted.dataSync() as Float32Array;
  predicted.dispose();
  const { accuracy } = model.evaluate(input, { values: test.labels, shape: [test.count] }, { loss });

  const bytes = toOnnx(model);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['output']);
    const result = await session.run({ input: new ort.Tensor('float32', test.images, [test.count, 1, 28, 28]) });
    const output = result.output;
    const classes = model.outputShape[0];
    expect(output.type).toBe('float32');
    expect(output.dims).toEqual([test.count, classes]);
    const actual = output.data as Float32Array;

    let maxAbs = 0;
    let maxScaled = 0;
    let disagreements = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(actual[i] - expected[i]);
      maxAbs = Math.max(maxAbs, diff);
      // Absolute below 1, relative above (logits can be large).
      maxScaled = Math.max(maxScaled, diff / Math.max(1, Math.abs(expected[i])));
    }
    for (let n = 0; n < test.count; n++) {
      if (argmax(actual, n * classes, classes) !== argmax(expected, n * classes, classes)) disagreements++;
    }
    console.log(
      `${name}: ${bytes.length} bytes of ONNX, Backprop test accuracy ${(accuracy * 100).toFixed(1)}% after ${epochs} × ${TRAIN} images; ` +
        `onnxruntime vs predict on ${test.count} images: max |Δ| ${maxAbs.toExponential(2)}, argmax disagreements ${disagreements}`,
    );
    expect(maxScaled).toBeLessThanOrEqual(TOLERANCE);
    expect(disagreements).toBe(0);

    // The batch dimension is dynamic: one image, and an odd batch, give the same rows.
    const one = await session.run({ input: new ort.Tensor('float32', test.images.slice(0, 784), [1, 1, 28, 28]) });
    expect(one.output.dims).toEqual([1, classes]);
    const seven = await session.run({ input: new ort.Tensor('float32', test.images.slice(784 * 10, 784 * 17), [7, 1, 28, 28]) });
    expect(seven.output.dims).toEqual([7, classes]);
    const sevenData = seven.output.data as Float32Array;
    for (let i = 0; i < 7 * classes; i++) expect(Math.abs(sevenData[i] - expected[10 * classes + i])).toBeLessThanOrEqual(TOLERANCE);
    return maxAbs;
  } finally {
    await session.release();
    model.dispose();
  }
}

describe('exported models run in ONNX Runtime with Backprop’s numbers (real MNIST, float32, CPU backend)', () => {
  it('the paper preset', async () => {
    const { model, loss, optimizer } = paperNetwork({ registry, seed: 1 });
    await checkAgainstOnnxRuntime('paper', model, loss, optimizer, 3);
  });

  it('the lenet preset', async () => {
    const { model, loss, optimizer } = lenet({ registry, seed: 1 });
    await checkAgainstOnnxRuntime('lenet', model, loss, optimizer, 1);
  });

  it('a model with every layer type and activation', async () => {
    const { model, loss, optimizer } = everyLayerModel();
    await checkAgainstOnnxRuntime('every-layer', model, loss, optimizer, 4);
  });

  it('the lenet-bn preset: augmentation (no node), BatchNormalization on conv and dense outputs, Dropout', async () => {
    const { model, loss, optimizer } = lenetBn({ registry, seed: 1 });
    await checkAgainstOnnxRuntime('lenet-bn', model, loss, optimizer, 1);
  });

  it('BatchNormalization without γ and β (constant ones and zeros), PyTorch’s ε and momentum, Dropout before the head', async () => {
    const { model, loss, optimizer } = normalizedModel();
    await checkAgainstOnnxRuntime('normalized', model, loss, optimizer, 2);
  });
});
