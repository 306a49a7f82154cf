import {
  BackpropError,
  cast,
  checkDtype,
  checkOptions,
  checkPositiveInt,
  defaultRegistry,
  describeValue,
  oneHot,
  shapeToString,
  tensor,
  type DataType,
  type Registry,
  type Tensor,
} from '@backprop/tensor';

export interface ToOneHotOptions {
  /** dtype of the one-hot rows; default float32 (use float64 to match float64 predictions). */
  dtype?: DataType;
  /** Registry for labels given as a number array; default the default registry (or the labels tensor's). */
  registry?: Registry;
}

/**
 * Integer class labels → one-hot rows (N, numClasses), the target format of
 * `categoricalCrossentropy` and `softmaxCrossEntropyFromLogits`.
 *
 * `toOneHot([2, 0, 1], 3)` gives [[0, 0, 1], [1, 0, 0], [0, 1, 0]]. Labels must be
 * integers in [0, numClasses); otherwise the error names the first bad label's index
 * and value: `toOneHot: label 3 is 10, outside [0, 10)`. Labels given as an array are
 * always checked; labels given as a tensor are checked where its backend reads
 * synchronously (`labels.canReadSync`), and not on backends that cannot (gpu.js
 * webgpu), where `toOneHot` stays synchronous: check such labels before uploading them.
 */
export function toOneHot(labels: Tensor | readonly number[], numClasses: number, options: ToOneHotOptions = {}): Tensor {
  const op = 'toOneHot';
  checkPositiveInt(op, 'numClasses', numClasses);
  const { dtype: given, registry: givenRegistry } = checkOptions(op, options, ['dtype', 'registry']) as ToOneHotOptions;
  const dtype = checkDtype(op, given === undefined ? 'float32' : given);
  let values: ArrayLike<number> = [];
  let source: Tensor | undefined;
  if (Array.isArray(labels)) {
    values = labels;
  } else if (labels !== null && typeof labels === 'object' && 'shape' in labels && 'dataSync' in labels) {
    source = labels as Tensor;
    source.assertLive(op);
    if (source.rank !== 1) {
      throw new BackpropError(op, `labels must have shape (batch), got ${shapeToString(source.shape)}`);
    }
    if (source.canReadSync) values = source.dataSync();
  } else {
    throw new BackpropError(op, `labels must be a Tensor or an array of integers, got ${describeValue(labels)}`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new BackpropError(op, `label ${i} is ${describeValue(v)}, not an integer class index`);
    }
    if (v < 0 || v >= numClasses) {
      throw new BackpropError(op, `label ${i} is ${v}, outside [0, ${numClasses})`);
    }
  }
  const registry = givenRegistry ?? source?.registry ?? defaultRegistry;
  return registry.scope(() => {
    const indices =
      source === undefined
        ? tensor(Array.from(values), [values.length], { registry, dtype: 'int32' })
        : source.dtype === 'int32'
          ? source
          : cast(source, 'int32');
    return oneHot(indices, numClasses, dtype);
  });
}
