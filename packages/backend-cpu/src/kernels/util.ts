import type { FusedActivation, TypedArray } from '@backprop/tensor';

/** Stable logistic function (MATH.md §2.2). */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Applies a fused activation in place over out[start, end). */
export function applyActivation(out: TypedArray, start: number, end: number, activation: FusedActivation, alpha: number): void {
  switch (activation) {
    case 'linear':
      return;
    case 'relu':
      for (let i = start; i < end; i++) {
        const v = out[i];
        if (!(v > 0) && v === v) out[i] = 0;
      }
      return;
    case 'leakyRelu':
      for (let i = start; i < end; i++) {
        const v = out[i];
        if (!(v > 0)) out[i] = alpha * v;
      }
      return;
    case 'sigmoid':
      for (let i = start; i < end; i++) {
        const v = out[i];
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case 'tanh':
      for (let i = start; i < end; i++) out[i] = Math.tanh(out[i]);
      return;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (let i = 0; i < shape.length; i++) s *= shape[i];
  return s;
}
