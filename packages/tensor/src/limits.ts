import { bytesPerElement, type DataType } from './dtype.js';
import { BackpropError, shapeToString } from './errors.js';
import { describeValue } from './validation.js';

/**
 * The most bytes one tensor may hold: 2 GiB (2^31), i.e. 2^29 float32/int32 or 2^28
 * float64 elements. Every tensor-creation function, `Registry.makeTensor` and every op
 * whose output can be larger than its inputs check shapes against it before a backend
 * allocates, so a typo such as `zeros([1e10])` is a clear error instead of a RangeError
 * from a typed-array constructor or an out-of-memory crash of the whole process.
 *
 * Why 2 GiB:
 * - Element indices and byte offsets of every tensor stay below 2^31, so kernels may
 *   index with 32-bit integers: @backprop/backend-cpu keeps convolution tap offsets in
 *   an Int32Array, `argMax` returns int32 indices, and GPU shaders index with 32-bit ints.
 * - It is below what one allocation can be on the runtimes we support: Node 20 caps a
 *   Buffer at 2^32 bytes (`buffer.constants.MAX_LENGTH`) and `fs.readFile` at 2 GiB, so
 *   any tensor can also be written to and read back from one file.
 * - It is far above what this library trains: the whole MNIST training set as float32
 *   is 188 MB, and the largest layer of the bundled models holds a few MB.
 * Backends may hold several such tensors; the limit is per tensor, not per backend.
 */
export const MAX_TENSOR_BYTES = 2 ** 31;

/** The most elements one tensor of `dtype` may hold under `MAX_TENSOR_BYTES`. */
export function maxElements(dtype: DataType): number {
  return MAX_TENSOR_BYTES / bytesPerElement(dtype);
}

/**
 * Throws a `BackpropError` unless `shape` is an array of non-negative integers whose
 * tensor of `dtype` fits in `MAX_TENSOR_BYTES`. `where` names the op or layer and `what`
 * the shape ('shape', 'output shape', 'kernel shape'), so layers can check a parameter
 * shape before they create it: `assertTensorShape('layer 1 (Dense)', [units, inputs],
 * 'float32', 'kernel shape')`. Allocates nothing.
 */
export function assertTensorShape(where: string, shape: readonly number[], dtype: DataType = 'float32', what = 'shape'): void {
  if (!Array.isArray(shape)) {
    throw new BackpropError(where, `${what} must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  const limit = maxElements(dtype);
  let size = 1;
  let largest = 0;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new BackpropError(where, `${what} [${shape.map(describeValue).join(', ')}]: dimension ${i} is ${describeValue(d)}; dimensions must be non-negative integers`);
    }
    size *= d;
    if (d > shape[largest]) largest = i;
  }
  if (size > limit) {
    throw new BackpropError(
      where,
      `${what} ${shapeToString(shape)} has ${size} elements (${size * bytesPerElement(dtype)} bytes as ${dtype}), ` +
        `over the limit of ${MAX_TENSOR_BYTES} bytes per tensor (MAX_TENSOR_BYTES; at most ${limit} ${dtype} elements)`,
    );
  }
  // A zero-size tensor may still have one huge dimension; refuse it too: an op that drops
  // the empty axis (a sum over it) would otherwise produce a tensor of the others' size.
  if (shape[largest] > limit) {
    throw new BackpropError(
      where,
      `${what} ${shapeToString(shape)}: dimension ${largest} is ${shape[largest]}, over the limit of ${limit} ${dtype} elements per tensor (MAX_TENSOR_BYTES)`,
    );
  }
}
