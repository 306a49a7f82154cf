import { BackpropError, describeValue, shapeToString, type Tensor } from '@backprop/tensor';
import { firstNonFinite, isPlainObject } from './data.js';
import type { Param } from './layer.js';
import type { Reading } from './readback.js';

/** A tensor's values on the host, by name: a model's weights, a saved optimizer slot. */
export interface NamedArray {
  name: string;
  shape: readonly number[];
  values: Float32Array | Float64Array;
}

/** Reads named tensors back, all together (see readback.ts), as copies. */
export function* readNamed(tensors: readonly { name: string; tensor: Tensor }[]): Reading<NamedArray[]> {
  const values = yield tensors.map((t) => t.tensor);
  return tensors.map((t, i) => ({ name: t.name, shape: [...t.tensor.shape], values: values[i] as Float32Array | Float64Array }));
}

/** A model's parameters as `readNamed` reads them. */
export function paramTensors(params: readonly Param[]): { name: string; tensor: Tensor }[] {
  return params.map((p) => ({ name: p.name, tensor: p.value }));
}

/**
 * Checks a whole set of weights against the parameters before anything is replaced:
 * well-formed entries, unique names, exactly the parameters' names and shapes, finite
 * values. Returns them by parameter name.
 */
export function checkWeights(where: string, weights: unknown, params: readonly Param[]): Map<string, NamedArray> {
  if (!Array.isArray(weights)) throw new BackpropError(where, `expects an array of { name, shape, values }, got ${describeValue(weights)}`);
  weights.forEach((w: unknown, i) => {
    const n = w as Partial<NamedArray> | null;
    if (!isPlainObject(n) || typeof n.name !== 'string' || !Array.isArray(n.shape) || !isNumberArray(n.values)) {
      throw new BackpropError(where, `weights[${i}] must be { name: string, shape: number[], values: Float32Array | Float64Array }, got ${describeValue(w)}`);
    }
  });
  const list = weights as NamedArray[];
  const byName = new Map(list.map((w) => [w.name, w]));
  if (byName.size !== list.length) throw new BackpropError(where, `two weights are named '${list.find((w, i) => list.findIndex((o) => o.name === w.name) !== i)!.name}'`);
  for (const p of params) {
    const w = byName.get(p.name);
    if (!w) throw new BackpropError(where, `missing weights for '${p.name}' (have: ${[...byName.keys()].join(', ') || 'none'})`);
    if (w.shape.length !== p.value.rank || w.shape.some((d, i) => d !== p.value.shape[i])) {
      throw new BackpropError(where, `'${p.name}' has shape ${shapeToString(w.shape)} but the model expects ${shapeToString(p.value.shape)}`);
    }
    if (w.values.length !== p.value.size) throw new BackpropError(where, `'${p.name}' has ${w.values.length} values, expected ${p.value.size}`);
    // A NaN or infinite weight would only surface later as NaN outputs and losses.
    const bad = firstNonFinite(w.values);
    if (bad >= 0) throw new BackpropError(where, `'${p.name}' value ${bad} is ${w.values[bad]}; weights must be finite`);
  }
  if (byName.size !== params.length) {
    const known = new Set(params.map((p) => p.name));
    const extra = [...byName.keys()].filter((n) => !known.has(n));
    throw new BackpropError(where, `weights for unknown parameters: ${extra.join(', ')}`);
  }
  return byName;
}

function isNumberArray(values: unknown): values is ArrayLike<number> {
  return values instanceof Float32Array || values instanceof Float64Array || (Array.isArray(values) && values.every((v) => typeof v === 'number'));
}
