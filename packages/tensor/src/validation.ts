import { type DataType, DTYPES, type FloatDataType } from './dtype.js';
import { BackpropError, shapeToString } from './errors.js';
import type { Tensor } from './tensor.js';

/**
 * The argument checks of every Backprop package: tensor ops, layers, losses,
 * optimizers. Each throws `BackpropError(where, detail)` where `where` names the op,
 * layer or component and `detail` reads `<name> must be <expected>, got <actual>`
 * (`Dense: units must be a positive integer ≤ 2147483647, got 0`), and each returns
 * the value it checked, so an option is read and checked in one line:
 * `this.units = checkPositiveInt(where, 'units', config.units, MAX_LAYER_ARG)`.
 *
 * Only `undefined` counts as absent (it takes a default where one is given): `null`
 * is an error naming the option, never a silent default or a TypeError.
 */

// ---- describing values ---------------------------------------------------------------

const MAX_DESCRIPTION = 80;

/**
 * A value for an error message: numbers as JavaScript spells them (NaN, Infinity,
 * 1e+308), strings in single quotes, arrays and plain objects by their contents
 * (`[3, NaN]`, `{ className: 'Dense', config: null }`), tensors by their shape,
 * other objects by their class (`a Float32Array`, `a Registry`); at most 80 characters.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = describeAt(value, 0);
  } catch {
    // A getter that throws, a revoked proxy: say what it is without reading it.
    text = typeof value;
  }
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}

function describeAt(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'undefined':
      return 'undefined';
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      // Control characters escaped: a message stays one line whatever a file held.
      // eslint-disable-next-line no-control-regex
      return `'${v.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))}'`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
  }
  if (v === null) return 'null';
  if (isTensor(v)) return `tensor of shape ${shapeToString(v.shape)}`;
  if (depth >= 2) return Array.isArray(v) ? '[…]' : '{…}';
  if (Array.isArray(v)) {
    const items = v.slice(0, 16).map((item) => describeAt(item, depth + 1));
    return `[${items.join(', ')}${v.length > 16 ? ', …' : ''}]`;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return article((v as object).constructor?.name || 'object');
  const keys = Object.keys(v as object);
  if (keys.length === 0) return '{}';
  const entries = keys.slice(0, 8).map((k) => `${k}: ${describeAt((v as Record<string, unknown>)[k], depth + 1)}`);
  return `{ ${entries.join(', ')}${keys.length > 8 ? ', …' : ''} }`;
}

function article(noun: string): string {
  return `${/^[AEIOUaeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`: the allowed values of an option, for a message. */
export function formatChoices(choices: readonly unknown[]): string {
  const quoted = choices.map((c) => (typeof c === 'string' ? `'${c}'` : String(c)));
  return quoted.length <= 1 ? (quoted[0] ?? '(none)') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

function fail(where: string, name: string, expected: string, value: unknown): never {
  throw new BackpropError(where, `${name} must be ${expected}, got ${describeValue(value)}`);
}

// ---- numbers ---------------------------------------------------------------------------

/** An integer ≥ 1 (and ≤ `max` when given). */
export function checkPositiveInt(where: string, name: string, value: unknown, max?: number): number {
  return checkInt(where, name, value, 1, max);
}

/** An integer ≥ 0 (and ≤ `max` when given). */
export function checkNonNegativeInt(where: string, name: string, value: unknown, max?: number): number {
  return checkInt(where, name, value, 0, max);
}

function checkInt(where: string, name: string, value: unknown, min: 0 | 1, max: number | undefined): number {
  if (!isIntIn(value, min, max)) fail(where, name, intExpected(min, max), value);
  return value;
}

function isIntIn(v: unknown, min: number, max: number | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && (max === undefined || v <= max);
}

function intExpected(min: 0 | 1, max: number | undefined): string {
  return `${min === 0 ? 'a non-negative' : 'a positive'} integer${max === undefined ? '' : ` ≤ ${max}`}`;
}

/** Bounds of a number option; a bound is inclusive unless its `…Exclusive` flag is set. */
export interface NumberRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** A number other than NaN and ±Infinity. */
export function checkFiniteNumber(where: string, name: string, value: unknown): number {
  return checkNumberInRange(where, name, value, {});
}

/**
 * A finite number within `range`: `{ min: 0 }` reads "a finite number ≥ 0",
 * `{ min: 0, max: 1, maxExclusive: true }` reads "a number in [0, 1)".
 */
export function checkNumberInRange(where: string, name: string, value: unknown, range: NumberRange): number {
  const { min, max, minExclusive = false, maxExclusive = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || (minExclusive ? value > min : value >= min)) &&
    (max === undefined || (maxExclusive ? value < max : value <= max));
  if (!ok) fail(where, name, rangeExpected(range), value);
  return value as number;
}

function rangeExpected({ min, max, minExclusive, maxExclusive }: NumberRange): string {
  if (min !== undefined && max !== undefined) return `a number in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (min !== undefined) return `a finite number ${minExclusive ? '>' : '≥'} ${min}`;
  if (max !== undefined) return `a finite number ${maxExclusive ? '<' : '≤'} ${max}`;
  return 'a finite number';
}

// ---- other scalars ---------------------------------------------------------------------

/** `true` or `false`; `undefined` takes `fallback` when one is given. */
export function checkBoolean(where: string, name: string, value: unknown, fallback?: boolean): boolean {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') fail(where, name, 'true or false', value);
  return value;
}

/** One of `choices` ("dtype must be 'float32' or 'float64', got 'int8'"). */
export function checkOneOf<T>(where: string, name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) fail(where, name, formatChoices(choices), value);
  return value as T;
}

/** A dtype, one of `allowed` (every dtype by default). */
export function checkDtype<T extends DataType = DataType>(where: string, value: unknown, allowed: readonly T[] = DTYPES as readonly T[]): T {
  return checkOneOf(where, 'dtype', value, allowed);
}

const FLOAT_DTYPES: readonly FloatDataType[] = ['float32', 'float64'];

/** 'float32' or 'float64': the dtype of parameters, models and saved weights. */
export function checkFloatDtype(where: string, value: unknown, name = 'dtype'): FloatDataType {
  return checkOneOf(where, name, value, FLOAT_DTYPES);
}

export function checkNonEmptyString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(where, name, 'a non-empty string', value);
  return value;
}

// ---- [height, width] pairs ---------------------------------------------------------------

/**
 * `n` or `[h, w]` of `kind` integers (≤ `max` when given), as `[h, w]`: kernel sizes,
 * strides, padding, pool sizes. Scalar options (units, filters) use checkPositiveInt,
 * never this: `units: [3, 99]` must be an error, not 3.
 */
export function checkIntPair(where: string, name: string, value: unknown, kind: 'positive' | 'non-negative', max?: number): [number, number] {
  const min = kind === 'positive' ? 1 : 0;
  const pair = typeof value === 'number' ? [value, value] : Array.isArray(value) && value.length === 2 ? value : undefined;
  if (!pair || !pair.every((v) => isIntIn(v, min, max))) {
    fail(where, name, `${intExpected(min, max)} or a [height, width] pair of them`, value);
  }
  return [pair[0], pair[1]];
}

// ---- options objects -------------------------------------------------------------------

export interface CheckOptionsSettings {
  /** What the argument is called in messages; default 'options'. */
  name?: string;
  /** `undefined` is an error instead of `{}`. */
  required?: boolean;
  /** What the message says it must be; default 'an object'. */
  expected?: string;
}

/**
 * An options argument: an object (not null, not an array), or `undefined` (returned as
 * `{}`) unless `required`. With `known`, any other key is an error listing the valid
 * ones: "unknown option 'momentum'; valid options: learningRate, weightDecay". Checks
 * the object only; read each option with the checkers above.
 */
export function checkOptions(where: string, value: unknown, known?: readonly string[], settings: CheckOptionsSettings = {}): Record<string, unknown> {
  const { name = 'options', required = false, expected = 'an object' } = settings;
  if (value === undefined && !required) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, name, expected, value);
  if (known) {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) throw new BackpropError(where, `unknown option '${key}'; valid options: ${known.join(', ')}`);
    }
  }
  return value as Record<string, unknown>;
}

// ---- tensors -------------------------------------------------------------------------------

/** Duck-typed, not instanceof: a tensor from another copy of this package passes. */
function isTensor(t: unknown): t is Tensor {
  return t !== null && typeof t === 'object' && 'shape' in t && 'dtype' in t && 'assertLive' in t;
}

/** A live (not disposed) Tensor. */
export function checkTensor(where: string, name: string, value: unknown): asserts value is Tensor {
  if (!isTensor(value)) throw new BackpropError(where, `'${name}' must be a Tensor, got ${describeValue(value)}`);
  value.assertLive(where);
}

/** `meaning` names the axes: checkRank(op, 'x', x, 2, '(batch, classes)'). */
export function checkRank(where: string, name: string, t: Tensor, rank: number, meaning?: string): void {
  if (t.rank !== rank) {
    throw new BackpropError(where, `'${name}' must have rank ${rank}${meaning ? ` ${meaning}` : ''}, got shape ${shapeToString(t.shape)}`);
  }
}

export function checkSameShape(where: string, a: Tensor, b: Tensor, aName = 'a', bName = 'b'): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new BackpropError(where, `'${aName}' and '${bName}' must have the same shape, got ${shapeToString(a.shape)} and ${shapeToString(b.shape)}`);
  }
}

export function checkSameDtype(where: string, a: Tensor, b: Tensor, aName = 'a', bName = 'b'): void {
  if (a.dtype !== b.dtype) throw new BackpropError(where, `'${aName}' is ${a.dtype} but '${bName}' is ${b.dtype}; cast one of them first`);
}

/** float32 or float64. */
export function checkFloatTensor(where: string, name: string, t: Tensor): void {
  if (t.dtype === 'int32') throw new BackpropError(where, `'${name}' must be float32 or float64, got int32`);
}
