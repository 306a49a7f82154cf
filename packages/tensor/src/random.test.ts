import { describe, expect, it } from 'vitest';
import { BackpropError, createRandom, seededOrder } from './index.js';

describe('seededOrder', () => {
  it('is a permutation of 0…count − 1 that depends only on (seed, pass)', () => {
    for (const count of [0, 1, 2, 17, 1000]) {
      const order = seededOrder(count, 3, 2);
      expect(order).toBeInstanceOf(Int32Array);
      expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(seededOrder(count, 3, 2)).toEqual(order);
    }
    expect(seededOrder(1000, 3, 2)).not.toEqual(seededOrder(1000, 3, 3));
    expect(seededOrder(1000, 3, 2)).not.toEqual(seededOrder(1000, 4, 2));
    // The seed's integer part counts (as createRandom truncates).
    expect(seededOrder(8, 2.7, 0)).toEqual(seededOrder(8, 2, 0));
  });

  it('keeps the orders training has always used, bit for bit (saved runs resume into them)', () => {
    expect(Array.from(seededOrder(10, 0, 0))).toEqual([9, 0, 8, 1, 4, 2, 3, 7, 6, 5]);
    expect(Array.from(seededOrder(10, 0, 1))).toEqual([6, 7, 1, 0, 3, 2, 9, 5, 8, 4]);
    expect(Array.from(seededOrder(12, 7, 3))).toEqual([6, 4, 1, 8, 3, 5, 7, 2, 0, 11, 9, 10]);
    expect(Array.from(seededOrder(8, -5, 0))).toEqual([1, 3, 7, 0, 6, 2, 5, 4]);
    // The documented derivation: a shuffle by createRandom(imul(seed, 0x9e3779b1) ^ (pass + 1)).
    const order = Int32Array.from({ length: 50 }, (_, i) => i);
    createRandom(Math.imul(11, 0x9e3779b1) ^ 5).shuffle(order);
    expect(seededOrder(50, 11, 4)).toEqual(order);
  });

  it('refuses a bad count, seed or pass with a BackpropError', () => {
    expect(() => seededOrder(-1, 0, 0)).toThrow(new BackpropError('seededOrder', 'count must be a non-negative integer, got -1'));
    expect(() => seededOrder(3, NaN, 0)).toThrow('seededOrder: seed must be a finite number, got NaN');
    expect(() => seededOrder(3, 0, 1.5)).toThrow('seededOrder: pass must be a non-negative integer, got 1.5');
  });
});
