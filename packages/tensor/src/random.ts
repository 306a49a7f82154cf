import { checkFiniteNumber, checkNonNegativeInt } from './validation.js';

/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32), so
 * initialisation, shuffling and tests are reproducible bit for bit.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** Standard normal (Box–Muller), scaled. */
  normal(mean?: number, stddev?: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
  /** An independent generator derived from this one. */
  fork(): Random;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRandom(seed: number): Random {
  checkFiniteNumber('createRandom', 'seed', seed);
  const init = splitmix32(Math.trunc(seed));
  let a = init(), b = init(), c = init(), d = init();
  let spare: number | undefined;
  const nextUint = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = (): number => nextUint() / 4294967296;
  const random: Random = {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    normal(mean = 0, stddev = 1) {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return mean + stddev * s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return mean + stddev * r * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor(next() * n),
    shuffle(array) {
      for (let i = array.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = array[i];
        array[i] = array[j];
        array[j] = tmp;
      }
      return array;
    },
    fork: () => createRandom(nextUint()),
  };
  return random;
}

/**
 * The order of pass `pass` (an epoch) over `count` items: 0…count − 1 shuffled (Fisher–Yates)
 * by a generator seeded from (seed, pass) only, a golden-ratio multiply of the seed's integer
 * part mixed with pass + 1. Pass p's order never depends on the passes before it, so a run
 * resumed at epoch p shuffles as the original did; `fit` over arrays and an image folder's
 * `batches({ shuffle: true })` both use it, so the same seed visits samples in the same order.
 */
export function seededOrder(count: number, seed: number, pass: number): Int32Array {
  const where = 'seededOrder';
  checkNonNegativeInt(where, 'count', count);
  checkFiniteNumber(where, 'seed', seed);
  checkNonNegativeInt(where, 'pass', pass);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  createRandom(Math.imul(seed | 0, 0x9e3779b1) ^ (pass + 1)).shuffle(order);
  return order;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
