/**
 * The library as the live examples use it: public exports only. Math examples run on
 * their own registry with the CPU backend in float64 (the worked numbers of apps/docs/math/), so
 * switching the train page's backend never changes them.
 */
import { cpuBackend } from '@backprop/backend-cpu';
import { type Layer, layersPlugin, Sequential } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { Registry, tensor, type Tensor } from '@backprop/tensor';

let mathRegistry: Registry | undefined;

export function getMathRegistry(): Registry {
  if (!mathRegistry) {
    mathRegistry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);
    mathRegistry.setBackend('cpu');
  }
  return mathRegistry;
}

/** A float64 tensor on the math registry. */
export function t64(values: number[] | number[][], shape: number[]): Tensor {
  return tensor(values.flat(), shape, { dtype: 'float64', registry: getMathRegistry() });
}

/** Runs `fn` in a scope of the math registry: every tensor made inside is freed. */
export function compute<R>(fn: () => R): R {
  return getMathRegistry().scope(fn);
}

/**
 * Runs `fn`; what it throws (most often the library's BackpropError for a value typed into the
 * example) comes back as `{ error: message }`, which the example shows in place of its results.
 */
export function resultOrError<R>(fn: () => R): R | { error: string } {
  try {
    return fn();
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Runs `fn` in a scope on a float64 model of the one `layer` on the math registry, and frees the model after. */
export function withLayer<R>(layer: Layer, inputShape: number[], seed: number, fn: (model: Sequential) => R): R {
  const model = new Sequential({ registry: getMathRegistry(), dtype: 'float64', seed, inputShape, layers: [layer] });
  try {
    return compute(() => fn(model));
  } finally {
    model.dispose();
  }
}

export function toRows(values: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) out.push(Array.from({ length: cols }, (_, c) => values[r * cols + c]));
  return out;
}

/** Formats like the worked examples: integers exactly, everything else with 6 decimals (trailing zeros dropped). */
export function fmt(v: number, digits = 6): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const rounded = Number(v.toFixed(digits));
  if (Object.is(rounded, -0) || rounded === 0) return '0';
  return String(rounded).replace('-', '−');
}

/** Parses a comma/space separated list of numbers; throws on anything else. */
export function parseList(text: string): number[] {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  return parts.map((p) => {
    const v = Number(p.replace('−', '-'));
    if (!Number.isFinite(v)) throw new Error(`'${p}' is not a number`);
    return v;
  });
}
