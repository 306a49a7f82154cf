import { BackpropError, checkPositiveInt, describeValue, sizeOfShape, type Tensor } from '@backprop/tensor';
import { type DataLike, gatherBatch, inputSet, isPlainObject } from './data.js';
import type { Reading } from './readback.js';
import type { Sequential } from './sequential.js';

export interface PredictOptions {
  batchSize?: number;
}

/** `predict` from its arguments: the outputs for every sample, computed in batches, as one (N, …outputShape) tensor. */
export function* prediction(model: Sequential, where: string, x: DataLike, options: PredictOptions): Reading<Tensor> {
  if (!isPlainObject(options as unknown)) throw new BackpropError(where, `options must be an object, got ${describeValue(options)}`);
  const inputs = yield* inputSet(where, 'x', x, model.inputShape);
  const batchSize = options.batchSize ?? 256;
  checkPositiveInt(where, 'batchSize', batchSize);
  const { registry, dtype } = model;
  const outSize = sizeOfShape(model.outputShape);
  const out = dtype === 'float64' ? new Float64Array(inputs.count * outSize) : new Float32Array(inputs.count * outSize);
  const scratch = {};
  for (let from = 0; from < inputs.count; from += batchSize) {
    const to = Math.min(inputs.count, from + batchSize);
    const y = registry.scope(() => model.forward(gatherBatch(registry, inputs, null, from, to, dtype, scratch).tensor));
    try {
      const [values] = yield [y];
      out.set(values, from * outSize);
    } finally {
      y.dispose();
    }
  }
  return registry.makeTensor(out, [inputs.count, ...model.outputShape], dtype);
}
