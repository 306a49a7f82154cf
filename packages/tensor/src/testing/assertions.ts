/**
 * Numeric assertions shared by the conformance suite and by later packages (layers,
 * losses, optimizers): closeness with a helpful message, central-difference
 * gradients, and the the gradient-check rule (apps/docs/math/backprop.md).
 */

/** Something with values: a plain/typed array, a `{ values, shape }` reference tensor, or a Tensor. */
export type ArrayInput =
  | ArrayLike<number>
  | { readonly values: ArrayLike<number>; readonly shape: readonly number[] }
  | { dataSync(): ArrayLike<number>; readonly shape: readonly number[] };

export interface CloseOptions {
  /** Relative tolerance (default 1e-4, the float32 rule of apps/docs/math/index.md (conventions)). */
  rtol?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Prefix for the error message, e.g. 'conv2d forward'. */
  label?: string;
  /** Shape of the arrays, used for the message when neither input carries one. */
  shape?: readonly number[];
}

function unpack(x: ArrayInput): { values: ArrayLike<number>; shape?: readonly number[] } {
  if (x !== null && typeof x === 'object' && 'dataSync' in x && typeof x.dataSync === 'function') {
    return { values: x.dataSync(), shape: x.shape };
  }
  if (x !== null && typeof x === 'object' && 'values' in x && 'shape' in x) {
    return { values: x.values, shape: x.shape };
  }
  return { values: x as ArrayLike<number> };
}

function fmtShape(shape: readonly number[] | undefined): string {
  return shape ? `[${shape.join(', ')}]` : '(unknown)';
}

function coords(index: number, shape: readonly number[] | undefined): string {
  if (!shape || shape.length <= 1) return `${index}`;
  const c: number[] = [];
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    c.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `${index} (at [${c.join(', ')}])`;
}

/** True when a and e agree: both NaN, equal (incl. same infinity), or |a − e| ≤ atol + rtol·|e|. */
export function isClose(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a);
  if (a === e) return true;
  if (!Number.isFinite(e) || !Number.isFinite(a)) return false;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/**
 * Throws unless `actual` and `expected` have the same length (and shape, where both
 * carry one) and every element satisfies |a − e| ≤ atol + rtol·|e| (NaN matches NaN).
 * The message names the first mismatching index, both values, the number of
 * mismatches and the largest error.
 */
export function expectArraysClose(actual: ArrayInput, expected: ArrayInput, options: CloseOptions = {}): void {
  const { rtol = 1e-4, atol = 1e-5, label } = options;
  const a = unpack(actual);
  const e = unpack(expected);
  const prefix = label ? `${label}: ` : '';
  const shape = e.shape ?? a.shape ?? options.shape;
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape![i]))) {
    throw new Error(`${prefix}shape mismatch: actual ${fmtShape(a.shape)} vs expected ${fmtShape(e.shape)}`);
  }
  if (a.values.length !== e.values.length) {
    throw new Error(
      `${prefix}length mismatch: actual has ${a.values.length} values, expected ${e.values.length} (shapes ${fmtShape(a.shape)} vs ${fmtShape(e.shape)})`,
    );
  }
  let first = -1;
  let count = 0;
  let maxErr = 0;
  let maxAt = -1;
  for (let i = 0; i < e.values.length; i++) {
    const av = a.values[i];
    const ev = e.values[i];
    if (!isClose(av, ev, rtol, atol)) {
      if (first < 0) first = i;
      count++;
      const err = Number.isFinite(av - ev) ? Math.abs(av - ev) : Infinity;
      if (err > maxErr || maxAt < 0) {
        maxErr = err;
        maxAt = i;
      }
    }
  }
  if (first >= 0) {
    const preview = (v: ArrayLike<number>): string =>
      Array.from(v).slice(0, 12).map((x) => Number(x.toPrecision(8))).join(', ') + (v.length > 12 ? ', …' : '');
    throw new Error(
      `${prefix}${count} of ${e.values.length} values differ (rtol ${rtol}, atol ${atol}); ` +
        `first at index ${coords(first, shape)}: actual ${a.values[first]}, expected ${e.values[first]}; ` +
        `largest error ${maxErr} at index ${coords(maxAt, shape)}. Shape ${fmtShape(shape)}.\n` +
        `  actual:   [${preview(a.values)}]\n  expected: [${preview(e.values)}]`,
    );
  }
}

/** Throws unless both are exactly equal element by element (for integer results). */
export function expectArraysEqual(actual: ArrayInput, expected: ArrayInput, label?: string): void {
  expectArraysClose(actual, expected, { rtol: 0, atol: 0, label });
}

/**
 * Central differences (f(x + h eᵢ) − f(x − h eᵢ)) / 2h for every i. `x` is restored
 * after each evaluation; `f` sees the perturbed array itself.
 */
export function numericalGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + h;
    const plus = f(x);
    x[i] = orig - h;
    const minus = f(x);
    x[i] = orig;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

export interface GradientCheckOptions {
  /** Finite-difference step (default 1e-6). */
  h?: number;
  /** Tolerance factor: |g_num − g| ≤ tol·max(1, |g|) (default 1e-6, apps/docs/math/backprop.md). */
  tol?: number;
  label?: string;
}

export interface GradientCheckResult {
  numeric: Float64Array;
  /** Largest |g_num − g| / max(1, |g|). */
  maxError: number;
}

/**
 * The gradient check of apps/docs/math/backprop.md: compares `analytic` with the central-difference
 * gradient of the scalar `f` at `x`, requiring |g_num − g| ≤ tol·max(1, |g|).
 * Run it in float64 and keep inputs away from kinks (ReLU at 0, max-pool ties).
 */
export function checkGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  analytic: ArrayLike<number>,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  checkLengths(x, analytic, options);
  return compareGradients(numericalGradient(f, Float64Array.from(x), options.h ?? 1e-6), analytic, options);
}

/** `numericalGradient` for a function that reads its result asynchronously (`await t.data()`). */
export async function numericalGradientAsync(f: (x: Float64Array) => Promise<number>, x: Float64Array, h = 1e-6): Promise<Float64Array> {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + h;
    const plus = await f(x);
    x[i] = orig - h;
    const minus = await f(x);
    x[i] = orig;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** `checkGradient` for a function that reads its result asynchronously: the same rule and message. */
export async function checkGradientAsync(
  f: (x: Float64Array) => Promise<number>,
  x: ArrayLike<number>,
  analytic: ArrayLike<number>,
  options: GradientCheckOptions = {},
): Promise<GradientCheckResult> {
  checkLengths(x, analytic, options);
  return compareGradients(await numericalGradientAsync(f, Float64Array.from(x), options.h ?? 1e-6), analytic, options);
}

function checkLengths(x: ArrayLike<number>, analytic: ArrayLike<number>, options: GradientCheckOptions): void {
  if (analytic.length !== x.length) {
    const prefix = options.label ? `${options.label}: ` : '';
    throw new Error(`${prefix}analytic gradient has ${analytic.length} values but x has ${x.length}`);
  }
}

function compareGradients(numeric: Float64Array, analytic: ArrayLike<number>, options: GradientCheckOptions): GradientCheckResult {
  const { tol = 1e-6, label } = options;
  const prefix = label ? `${label}: ` : '';
  let maxError = 0;
  let worst = 0;
  for (let i = 0; i < numeric.length; i++) {
    const g = analytic[i];
    let err = Math.abs(numeric[i] - g) / Math.max(1, Math.abs(g));
    if (Number.isNaN(err)) err = Infinity;
    if (err > maxError) {
      maxError = err;
      worst = i;
    }
  }
  if (!(maxError <= tol)) {
    throw new Error(
      `${prefix}gradient check failed: at index ${worst} analytic ${analytic[worst]} vs numerical ${numeric[worst]} ` +
        `(error ${maxError} > ${tol}·max(1,|g|))`,
    );
  }
  return { numeric, maxError };
}

/**
 * Gradient check of a vector-Jacobian product: L(x) = Σ G ⊙ forward(x), so the
 * analytic gradient is the backward pass applied to G.
 */
export function checkVjp(
  forward: (x: Float64Array) => ArrayLike<number>,
  x: ArrayLike<number>,
  G: ArrayLike<number>,
  analytic: ArrayLike<number>,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const f = (v: Float64Array): number => {
    const y = forward(v);
    if (y.length !== G.length) throw new Error(`${options.label ?? 'checkVjp'}: forward gave ${y.length} values, G has ${G.length}`);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += G[i] * y[i];
    return s;
  };
  return checkGradient(f, x, analytic, options);
}

/** `checkVjp` for a forward pass read asynchronously (`await t.data()`), as on WebGPU. */
export async function checkVjpAsync(
  forward: (x: Float64Array) => Promise<ArrayLike<number>>,
  x: ArrayLike<number>,
  G: ArrayLike<number>,
  analytic: ArrayLike<number>,
  options: GradientCheckOptions = {},
): Promise<GradientCheckResult> {
  const f = async (v: Float64Array): Promise<number> => {
    const y = await forward(v);
    if (y.length !== G.length) throw new Error(`${options.label ?? 'checkVjp'}: forward gave ${y.length} values, G has ${G.length}`);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += G[i] * y[i];
    return s;
  };
  return checkGradientAsync(f, x, analytic, options);
}
