import { maxPool, maxPoolBackward, tensor } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { makeRegistry, t } from './testUtil.js';

// The float32 2×2 max pooling selects with integer keys instead of branches; it must pick
// exactly what the plain comparison loop (the float64 path) picks: first maximum, ±0 tied,
// NaN (either sign) wins, ±Infinity and subnormals in order.
describe('branch-free 2×2 max pooling (float32) vs the comparison loop (float64)', () => {
  // Bit patterns, so negative NaNs survive (a JS array would canonicalise them to +NaN).
  const specialBits = [
    0x7fc00000, 0xffc00000, 0xff800001, 0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x40400000, 0x40400000,
    0x7f800000, 0xff800000, 0x00000001, 0x80000001, 0x40200000, 0xc0200000,
  ];
  for (const strides of [2, 1] as const) {
    it(`stride ${strides}: values, and where the gradient goes`, () => {
      const r = makeRegistry();
      let seed = 7;
      const shape = [3, 2, 8, 10];
      const bits = new Int32Array(3 * 2 * 8 * 10).map(() => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return specialBits[(seed >>> 8) % specialBits.length] | 0;
      });
      const values = new Float32Array(bits.buffer);
      expect(Array.from(bits).filter((b) => b === (0xffc00000 | 0)).length, 'negative NaNs in the input').toBeGreaterThan(0);
      const x32 = tensor(values, shape, { registry: r, dtype: 'float32' });
      const x64 = tensor(Float64Array.from(values), shape, { registry: r, dtype: 'float64' });
      const geo = { poolSize: 2 as const, strides };
      const y32 = maxPool(x32, geo), y64 = maxPool(x64, geo);
      const a = y32.dataSync(), b = y64.dataSync();
      for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i]), `max of window ${i}: ${a[i]} vs ${b[i]}`).toBe(true);
      const g = Array.from({ length: y32.size }, (_, i) => i + 1);
      const d32 = maxPoolBackward(t(r, g, [...y32.shape], 'float32'), x32, geo).dataSync();
      const d64 = maxPoolBackward(t(r, g, [...y64.shape], 'float64'), x64, geo).dataSync();
      expect(Array.from(d32)).toEqual(Array.from(d64));
    });
  }

  it('hand-made windows: ±0 ties keep the first, a negative NaN wins', () => {
    const r = makeRegistry();
    const bits = new Int32Array([
      0x80000000, 0x00000000, 0xbf800000, 0xbf800000, // −0, +0, −1, −1 → −0 (first)
      0x00000000, 0x80000000, 0xbf800000, 0xbf800000, // +0, −0 → +0 (first)
      0xbf800000, 0x80000000, 0xc0000000, 0x00000000, // −1, −0, −2, +0 → −0 at index 1
      0x3f800000, 0xffc00000, 0x7fc00000, 0x40000000, // 1, −NaN, +NaN, 2 → the first NaN, index 1
    ]);
    const x = tensor(new Float32Array(bits.buffer), [1, 4, 2, 2], { registry: r, dtype: 'float32' });
    const geo = { poolSize: 2 as const, strides: 2 as const };
    const y = new Int32Array(new Float32Array(maxPool(x, geo).dataSync()).buffer);
    expect(Array.from(y, (u) => (u >>> 0).toString(16))).toEqual(['80000000', '0', '80000000', 'ffc00000']);
    const dx = maxPoolBackward(tensor([1, 2, 3, 4], [1, 4, 1, 1], { registry: r, dtype: 'float32' }), x, geo).dataSync();
    expect(Array.from(dx)).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0]);
  });
});
