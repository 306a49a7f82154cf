import { describe, expect, it } from 'vitest';
import { applyActivation, reluBackwardInto, reluInto } from './kernels/util.js';

// The branch-free ReLU paths (bit masks on float32) must give exactly what the plain rule gives.
const special = [NaN, -NaN, 0, -0, 1, -1, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38, 0.5, -0.5];
const plainRelu = (t: number): number => (t > 0 ? t : t === t ? 0 : t);

describe('branch-free ReLU kernels', () => {
  for (const Ctor of [Float32Array, Float64Array]) {
    const values = new Ctor([...special, ...Array.from({ length: 200 }, (_, i) => Math.sin(i * 12.9898) * 3)]);
    it(`reluInto ${Ctor.name}: max(0, x), +0 for x ≤ 0, NaN kept (also in place over a range)`, () => {
      const o = new Ctor(values.length);
      reluInto(values, o, 0, values.length);
      values.forEach((t, i) => expect(Object.is(o[i], new Ctor([plainRelu(t)])[0]), `x = ${t}`).toBe(true));
      const inPlace = new Ctor(values);
      applyActivation(inPlace, 3, 10, 'relu', 0);
      inPlace.forEach((t, i) => expect(Object.is(t, i >= 3 && i < 10 ? o[i] : values[i]), `index ${i}`).toBe(true));
    });
    it(`reluBackwardInto ${Ctor.name}: g where x > 0, else +0 (NaN x gives 0, NaN g passes where x > 0)`, () => {
      const g = new Ctor(values.map((_, i) => (i % 7 === 0 ? NaN : (i % 3) - 1.25)));
      const o = new Ctor(values.length);
      reluBackwardInto(g, values, o);
      values.forEach((t, i) => expect(Object.is(o[i], t > 0 ? g[i] : 0), `x = ${t}, g = ${g[i]}`).toBe(true));
    });
    it(`leaky ReLU ${Ctor.name}: x for x > 0, αx otherwise (−0 and NaN kept)`, () => {
      const o = new Ctor(values);
      applyActivation(o, 0, o.length, 'leakyRelu', 0.2);
      values.forEach((t, i) => expect(Object.is(o[i], new Ctor([t > 0 ? t : 0.2 * t])[0]), `x = ${t}`).toBe(true));
    });
  }
});
