import type { DataType } from '../dtype.js';
import { BackpropError, shapeToString } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Shape and attribute checks shared by the ops; each names the op and the argument. */

export function assertTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (t === null || typeof t !== 'object' || !('shape' in t) || !('dtype' in t) || !('assertLive' in t)) {
    throw new BackpropError(op, `'${name}' must be a Tensor, got ${describe(t)}`);
  }
  (t as Tensor).assertLive(op);
}

export function assertRank(op: string, name: string, t: Tensor, rank: number, meaning?: string): void {
  if (t.rank !== rank) {
    throw new BackpropError(
      op,
      `'${name}' must have rank ${rank}${meaning ? ` ${meaning}` : ''}, got shape ${shapeToString(t.shape)}`,
    );
  }
}

export function assertSameShape(op: string, a: Tensor, b: Tensor, aName = 'a', bName = 'b'): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new BackpropError(
      op,
      `'${aName}' and '${bName}' must have the same shape, got ${shapeToString(a.shape)} and ${shapeToString(b.shape)}`,
    );
  }
}

export function assertSameDtype(op: string, a: Tensor, b: Tensor, aName = 'a', bName = 'b'): void {
  if (a.dtype !== b.dtype) {
    throw new BackpropError(op, `'${aName}' is ${a.dtype} but '${bName}' is ${b.dtype}; cast one of them first`);
  }
}

export function assertFloat(op: string, name: string, t: Tensor): void {
  if (t.dtype === 'int32') throw new BackpropError(op, `'${name}' must be float32 or float64, got int32`);
}

export function assertPositiveInt(op: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new BackpropError(op, `${name} must be a positive integer, got ${describe(v)}`);
  }
}

export function assertNonNegativeInt(op: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new BackpropError(op, `${name} must be a non-negative integer, got ${describe(v)}`);
  }
}

export function assertFiniteNumber(op: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new BackpropError(op, `${name} must be a finite number, got ${describe(v)}`);
  }
}

export function assertDtype(op: string, dtype: unknown): asserts dtype is DataType {
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') {
    throw new BackpropError(op, `dtype must be 'float32', 'float64' or 'int32', got ${describe(dtype)}`);
  }
}

/**
 * Normalises `n` or `[a, b]` to a pair of `kind` integers. Only
 * `undefined` takes the fallback: `null` or any other non-pair is an error naming the
 * option, not a TypeError from indexing it.
 */
export function pair(
  op: string,
  name: string,
  v: number | readonly [number, number] | undefined,
  fallback: [number, number],
  kind: 'positive' | 'non-negative',
): [number, number] {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' && !(Array.isArray(v) && v.length === 2)) {
    throw new BackpropError(op, `${name} must be a ${kind} integer or a [height, width] pair, got ${describe(v)}`);
  }
  const check: (op: string, name: string, v: unknown) => void = kind === 'positive' ? assertPositiveInt : assertNonNegativeInt;
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  check(op, name, p[0]);
  check(op, name, p[1]);
  return p;
}

/**
 * An options argument: an object, or `undefined` (all defaults) unless `required`. Default parameters
 * only replace `undefined`, so `null` and other values would otherwise reach a
 * destructuring or property read and throw a TypeError.
 */
export function assertOptions(op: string, options: unknown, what = 'options must be an object', required = false): asserts options is object | undefined {
  if ((required || options !== undefined) && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new BackpropError(op, `${what}, got ${describe(options)}`);
  }
}

export function assertBoolean(op: string, name: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new BackpropError(op, `${name} must be a boolean, got ${describe(v)}`);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object' && 'shape' in v) return `tensor of shape ${shapeToString((v as Tensor).shape)}`;
  return typeof v;
}
