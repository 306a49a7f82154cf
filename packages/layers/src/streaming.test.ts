import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, Registry } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { type DataBatch, Dense, Flatten, layersPlugin, Sequential } from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

const COUNT = 20;
const rng = createRandom(3);
const images = Float32Array.from({ length: COUNT * 6 }, () => rng.next());
// Class = whether the first half of the image is brighter than the second.
const labels = Int32Array.from({ length: COUNT }, (_, n) => (images[n * 6] + images[n * 6 + 1] + images[n * 6 + 2] > images[n * 6 + 3] + images[n * 6 + 4] + images[n * 6 + 5] ? 1 : 0));

function model(): Sequential {
  return new Sequential({ registry, inputShape: [1, 2, 3], layers: [new Flatten(), new Dense({ units: 4, activation: 'relu' }), new Dense({ units: 2, activation: 'softmax' })], seed: 7 });
}

/** The in-memory set as batches of `size`, in order; a fresh pass each time it is iterated. */
function stream(size: number, from = 0, to = COUNT): AsyncIterable<DataBatch> & { sampleCount: number; batchCount: number } {
  return {
    sampleCount: to - from,
    batchCount: Math.ceil((to - from) / size),
    async *[Symbol.asyncIterator]() {
      for (let n = from; n < to; n += size) {
        const m = Math.min(size, to - n);
        await Promise.resolve();
        yield { x: { values: images.slice(n * 6, (n + m) * 6), shape: [m, 1, 2, 3] }, y: { values: labels.slice(n, n + m), shape: [m] } };
      }
    },
  };
}

const options = { loss: 'categoricalCrossentropy', optimizer: { name: 'sgd', config: { learningRate: 0.5 } }, epochs: 3 };

describe('fit / evaluateAsync / predictAsync on a stream of batches', () => {
  it('trains exactly as the same batches in memory (shuffle off): the same history and weights', async () => {
    const a = model();
    const b = model();
    const inMemory = await a.fit({ values: images, shape: [COUNT, 1, 2, 3] }, { values: labels, shape: [COUNT] }, { ...options, batchSize: 8, shuffle: false });
    const begin: unknown[] = [];
    const streamed = await b.fit(stream(8), { ...options, callbacks: { onTrainBegin: (info) => void begin.push(info) } });
    expect(streamed.epochs.map((e) => [e.loss, e.accuracy])).toEqual(inMemory.epochs.map((e) => [e.loss, e.accuracy]));
    expect(b.getWeights().map((w) => Array.from(w.values))).toEqual(a.getWeights().map((w) => Array.from(w.values)));
    expect(begin).toEqual([{ epochs: 3, initialEpoch: 0, samples: COUNT, batchesPerEpoch: 3 }]);
    const x = { values: images, shape: [COUNT, 1, 2, 3] };
    const evaluated = a.evaluate(x, { values: labels, shape: [COUNT] }, { loss: 'categoricalCrossentropy' });
    const evaluatedStream = await a.evaluateAsync(stream(6), { loss: 'categoricalCrossentropy' });
    expect(evaluatedStream.accuracy).toBe(evaluated.accuracy);
    expect(evaluatedStream.loss).toBeCloseTo(evaluated.loss, 6);
    const predicted = await a.predictAsync(stream(7));
    expect(predicted.shape).toEqual([COUNT, 2]);
    expect(Array.from(predicted.dataSync())).toEqual(Array.from(a.predict(x).dataSync()));
    a.dispose();
    b.dispose();
  });

  it('evaluates a validation stream after each epoch', async () => {
    const m = model();
    const history = await m.fit(stream(5, 0, 15), { ...options, validationData: stream(5, 15, 20) });
    const v = await m.evaluateAsync(stream(5, 15, 20), { loss: 'categoricalCrossentropy' });
    expect(history.epochs[2].valLoss).toBe(v.loss);
    expect(history.epochs[2].valAccuracy).toBe(v.accuracy);
    m.dispose();
  });

  it('refuses a single-use generator for a second epoch, options the stream decides, and bad batches', async () => {
    const m = model();
    async function* once() {
      yield { x: { values: images.slice(0, 12), shape: [2, 1, 2, 3] }, y: { values: labels.slice(0, 2), shape: [2] } };
    }
    await expect(m.fit(once(), { ...options, epochs: 2 })).rejects.toThrow(/fit: epoch 2 had no batches; a stream of batches must start a new pass/);
    await expect(m.fit(stream(4), { ...options, batchSize: 4 })).rejects.toThrow(/fit: batchSize does not apply to a stream of batches/);
    // A synchronous iterable is a stream too (not an array: an array is refused as data).
    const of = (batches: DataBatch[]) => ({ [Symbol.iterator]: () => batches[Symbol.iterator]() });
    const wrong = of([{ x: { values: new Float32Array(8), shape: [2, 1, 2, 2] }, y: { values: [0, 1], shape: [2] } }]);
    await expect(m.fit(wrong, options)).rejects.toThrow(/fit: batch 1 x has samples of shape \[1, 2, 2\] but the model expects \[1, 2, 3\]/);
    const badLabel = of([{ x: { values: new Float32Array(6), shape: [1, 1, 2, 3] }, y: { values: [5], shape: [1] } }]);
    await expect(m.fit(badLabel, options)).rejects.toThrow(BackpropError);
    await expect(m.fit(of([{ x: { values: new Float32Array(6), shape: [1, 1, 2, 3] } } as DataBatch]), options)).rejects.toThrow(/batch 1 of the stream must be \{ x, y \}/);
    expect(() => m.evaluate(stream(4) as never, {} as never, { loss: 'categoricalCrossentropy' })).toThrow(/use evaluateAsync\(stream, options\)/);
    m.dispose();
  });

  it('checks the options of evaluateAsync and predictAsync as the in-memory ones do, before reading a batch', async () => {
    const m = model();
    let read = 0;
    const counted = {
      async *[Symbol.asyncIterator]() {
        for await (const batch of stream(5)) {
          read++;
          yield batch;
        }
      },
    };
    const x = { values: images, shape: [COUNT, 1, 2, 3] };
    const y = { values: labels, shape: [COUNT] };
    const loss = 'categoricalCrossentropy';
    // batchSize 0 made evaluateAsync on a stream loop for ever on its first batch.
    for (const batchSize of [0, -1, 2.5, Number.NaN, '4']) {
      const message = `batchSize must be a positive integer, got ${typeof batchSize === 'string' ? `'${batchSize}'` : String(batchSize)}`;
      await expect(m.evaluateAsync(counted, { loss, batchSize } as never)).rejects.toThrow(`evaluateAsync: ${message}`);
      await expect(m.evaluateAsync(x, y, { loss, batchSize } as never)).rejects.toThrow(`evaluateAsync: ${message}`);
      await expect(m.predictAsync(counted, { batchSize } as never)).rejects.toThrow(`predictAsync: ${message}`);
      await expect(m.predictAsync(x, { batchSize } as never)).rejects.toThrow(`predictAsync: ${message}`);
    }
    await expect(m.evaluateAsync(counted, { loss, returnOutputs: 'yes' } as never)).rejects.toThrow(/evaluateAsync: returnOutputs must be/);
    await expect(m.predictAsync(counted, 5 as never)).rejects.toThrow('predictAsync: options must be an object, got 5');
    await expect(m.evaluateAsync(counted, { loss: 'nope' })).rejects.toThrow(BackpropError);
    expect(read).toBe(0);
    // A batchSize smaller than the stream's batches splits them: the same result.
    const whole = await m.evaluateAsync(counted, { loss, returnOutputs: true });
    const split = await m.evaluateAsync(counted, { loss, batchSize: 2, returnOutputs: true });
    expect(read).toBe(8);
    expect(split.accuracy).toBe(whole.accuracy);
    expect(split.loss).toBeCloseTo(whole.loss, 6);
    expect(Array.from(split.outputs!)).toEqual(Array.from(whole.outputs!));
    m.dispose();
  });
});
