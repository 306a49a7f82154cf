import type { DataType } from '../dtype.js';
import { BackpropError } from '../errors.js';
import { assertTensorShape } from '../limits.js';
import type { Tensor } from '../tensor.js';
import { checkDtype, checkFiniteNumber, checkSameDtype, checkSameShape, checkTensor } from '../validation.js';

type BinaryKernel = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
type ScalarKernel = 'addScalar' | 'mulScalar' | 'maximumScalar' | 'minimumScalar';
type UnaryKernel = 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'square' | 'abs' | 'sign';

function binary(kernel: BinaryKernel, a: Tensor, b: Tensor): Tensor {
  checkTensor(kernel, 'a', a);
  checkTensor(kernel, 'b', b);
  checkSameShape(kernel, a, b);
  checkSameDtype(kernel, a, b);
  return a.registry.runKernel(kernel, { a, b }, {});
}

function withScalar(kernel: ScalarKernel, x: Tensor, scalar: number): Tensor {
  checkTensor(kernel, 'x', x);
  if (typeof scalar !== 'number' || Number.isNaN(scalar)) {
    throw new BackpropError(kernel, `scalar must be a number, got ${String(scalar)}`);
  }
  return x.registry.runKernel(kernel, { x }, { scalar });
}

function unary(kernel: UnaryKernel, x: Tensor): Tensor {
  checkTensor(kernel, 'x', x);
  return x.registry.runKernel(kernel, { x }, {});
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binary('minimum', a, b);

export const addScalar = (x: Tensor, scalar: number): Tensor => withScalar('addScalar', x, scalar);
export const mulScalar = (x: Tensor, scalar: number): Tensor => withScalar('mulScalar', x, scalar);
export const maximumScalar = (x: Tensor, scalar: number): Tensor => withScalar('maximumScalar', x, scalar);
export const minimumScalar = (x: Tensor, scalar: number): Tensor => withScalar('minimumScalar', x, scalar);

export function powScalar(x: Tensor, exponent: number): Tensor {
  checkTensor('powScalar', 'x', x);
  checkFiniteNumber('powScalar', 'exponent', exponent);
  return x.registry.runKernel('powScalar', { x }, { exponent });
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** sign(0) = 0. */
export const sign = (x: Tensor): Tensor => unary('sign', x);

/** A copy converted to `dtype` (also a plain copy when the dtype is unchanged). */
export function cast(x: Tensor, dtype: DataType): Tensor {
  checkTensor('cast', 'x', x);
  checkDtype('cast', dtype);
  // float32 → float64 doubles the bytes: a tensor under the limit may not fit as float64.
  assertTensorShape('cast', x.shape, dtype, 'output shape');
  return x.registry.runKernel('cast', { x }, { dtype });
}

export function clone(x: Tensor): Tensor {
  return cast(x, x.dtype);
}
