import { computeConv2DInfo, type Conv2DInfo, conv2d, conv2dBackwardInput, type DataType, type FusedActivation, sizeOfShape } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { forwardAlgorithm } from './kernels/conv2d.js';
import { expectClose, makeRegistry, rand, t } from './testUtil.js';

/** Winograd F(2×2, 3×3) must agree with im2col + GEMM on every 3×3 stride-1 geometry. */
describe('Winograd F(2×2, 3×3) forward vs im2col + GEMM', () => {
  // Odd and even output sizes (a tile hanging past the edge), 1×1 output, padding 0–2, C and F from 1 to 16.
  const cases: { x: number[]; k: number[]; p: number }[] = [
    { x: [2, 3, 7, 7], k: [4, 3, 3, 3], p: 0 },
    { x: [2, 8, 13, 13], k: [16, 8, 3, 3], p: 0 },
    { x: [1, 8, 6, 6], k: [8, 8, 3, 3], p: 1 },
    { x: [3, 9, 5, 10], k: [9, 9, 3, 3], p: 2 },
    { x: [1, 1, 3, 3], k: [1, 1, 3, 3], p: 0 },
    { x: [2, 4, 4, 3], k: [5, 4, 3, 3], p: 1 },
    { x: [11, 2, 6, 5], k: [3, 2, 3, 3], p: 0 },
  ];
  const activations: FusedActivation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh'];
  for (const dtype of ['float64', 'float32'] as DataType[]) {
    for (const c of cases) {
      it(`${dtype} x[${c.x}] k[${c.k}] pad ${c.p}, every fused activation, with and without bias`, () => {
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        const [winograd, gemm] = (['winograd', 'gemm'] as const).map((forward) => {
          const r = makeRegistry({ convAlgorithm: { forward } });
          const x = t(r, rand(sizeOfShape(c.x), 21), c.x, dtype), k = t(r, rand(sizeOfShape(c.k), 22), c.k, dtype);
          const b = t(r, rand(c.k[0], 23), [c.k[0]], dtype);
          return (bias: boolean, activation: FusedActivation) =>
            conv2d(x, k, { strides: 1, pad: c.p, bias: bias ? b : undefined, activation, alpha: 0.1 }).dataSync();
        });
        for (const activation of activations) {
          for (const bias of [true, false]) {
            expectClose(winograd(bias, activation), gemm(bias, activation), tol);
          }
        }
      });
    }
  }

  it('several column blocks per call and an image with more tiles than a block (batch 20 at 12×12, 40×37)', () => {
    for (const [xs, ks] of [[[20, 8, 12, 12], [8, 8, 3, 3]], [[2, 8, 40, 37], [9, 8, 3, 3]]]) {
      const run = (forward: 'gemm' | 'winograd') => {
        const r = makeRegistry({ convAlgorithm: { forward } });
        const x = t(r, rand(sizeOfShape(xs), 41), xs, 'float64'), k = t(r, rand(sizeOfShape(ks), 42), ks, 'float64');
        return conv2d(x, k, { strides: 1, pad: 1 }).dataSync();
      };
      expectClose(run('winograd'), run('gemm'), 1e-12);
    }
  });

  it('non-finite inputs propagate as in the direct sum (Inf stays Inf, not Inf − Inf = NaN): Winograd is not used', () => {
    const xs = [1, 8, 6, 6], ks = [8, 8, 3, 3];
    const values = rand(sizeOfShape(xs), 51);
    values[2 * 36 + 14] = Infinity;
    values[5 * 36 + 30] = NaN;
    const run = (forward: 'auto' | 'gemm' | 'winograd') => {
      const r = makeRegistry({ convAlgorithm: { forward } });
      const x = t(r, values, xs, 'float32'), k = t(r, rand(sizeOfShape(ks), 52), ks, 'float32');
      return Array.from(conv2d(x, k, { strides: 1, pad: 1 }).dataSync());
    };
    const gemm = run('gemm');
    expect(gemm.some((v) => v === Infinity || v === -Infinity), 'the Inf reaches some outputs').toBe(true);
    expect(run('auto')).toEqual(gemm);
    expect(run('winograd')).toEqual(gemm);
  });

  it("'auto' picks Winograd for 3×3 stride 1 with ≥ 8 channels and filters on outputs ≥ 2×2, finite inputs", () => {
    const geom = (f: number, c: number, h: number, strides = 1, pad = 1, k = 3): Conv2DInfo =>
      computeConv2DInfo([1, c, h, h], { filters: f, kernelSize: [k, k] }, [strides, strides], [pad, pad]);
    const finite = new Float32Array([1, 2]), infinite = new Float32Array([1, Infinity]), nan = new Float32Array([NaN]);
    expect(forwardAlgorithm('auto', geom(8, 8, 9), finite, finite)).toBe('conv2dWinograd');
    expect(forwardAlgorithm('auto', geom(64, 32, 13, 1, 0), finite, finite)).toBe('conv2dWinograd');
    expect(forwardAlgorithm('auto', geom(16, 16, 5, 1, 0), finite, finite), '3×3 output').toBe('conv2dWinograd');
    expect(forwardAlgorithm('auto', geom(16, 16, 3, 1, 0), finite, finite), '1×1 output (C·9 > 128)').toBe('conv2dGemm');
    expect(forwardAlgorithm('auto', geom(8, 4, 9), finite, finite), 'C = 4').toBe('conv2dDirect');
    expect(forwardAlgorithm('auto', geom(4, 8, 9), finite, finite), 'F = 4').toBe('conv2dDirect');
    expect(forwardAlgorithm('auto', geom(8, 8, 9, 2), finite, finite), 'stride 2').toBe('conv2dDirect');
    expect(forwardAlgorithm('auto', geom(8, 32, 9, 1, 2, 5), finite, finite), '5×5').toBe('conv2dGemm');
    expect(forwardAlgorithm('auto', geom(8, 8, 9), infinite, finite), 'Inf in x').toBe('conv2dDirect');
    expect(forwardAlgorithm('auto', geom(8, 8, 9), finite, nan), 'NaN in the filter').toBe('conv2dDirect');
    expect(forwardAlgorithm('auto', geom(8, 64, 9), infinite, finite), 'wide, Inf in x').toBe('conv2dGemm');
  });
});

/** The input gradient of 3×3 stride-1 convs as a Winograd forward conv on the flipped kernel. */
describe('Winograd input gradient vs GEMM + col2im', () => {
  const cases: { x: number[]; k: number[]; p: number }[] = [
    { x: [2, 8, 13, 13], k: [16, 8, 3, 3], p: 0 },
    { x: [1, 8, 6, 6], k: [8, 8, 3, 3], p: 1 },
    { x: [3, 9, 5, 10], k: [9, 9, 3, 3], p: 2 },
    { x: [2, 3, 7, 4], k: [5, 3, 3, 3], p: 0 },
    { x: [1, 2, 3, 3], k: [2, 2, 3, 3], p: 0 },
    { x: [2, 4, 6, 6], k: [3, 4, 3, 3], p: 3 }, // pad > 2: stays on GEMM + col2im
  ];
  for (const dtype of ['float64', 'float32'] as DataType[]) {
    for (const c of cases) {
      it(`${dtype} x[${c.x}] k[${c.k}] pad ${c.p}`, () => {
        const ho = c.x[2] + 2 * c.p - 2, wo = c.x[3] + 2 * c.p - 2;
        const run = (input: 'gemm' | 'winograd' | 'auto') => {
          const r = makeRegistry({ convAlgorithm: { input } });
          const dy = t(r, rand(c.x[0] * c.k[0] * ho * wo, 71), [c.x[0], c.k[0], ho, wo], dtype);
          const k = t(r, rand(sizeOfShape(c.k), 72), c.k, dtype);
          return conv2dBackwardInput(dy, k, c.x, { strides: 1, pad: c.p }).dataSync();
        };
        const gemm = run('gemm');
        expectClose(run('winograd'), gemm, dtype === 'float32' ? 1e-5 : 1e-12);
        expectClose(run('auto'), gemm, dtype === 'float32' ? 1e-5 : 1e-12);
      });
    }
  }

  it('a NaN or Inf in dy propagates as through GEMM + col2im (Winograd is not used)', () => {
    const values = rand(1 * 8 * 6 * 6, 81);
    values[3 * 36 + 14] = Infinity;
    values[6 * 36 + 2] = NaN;
    const run = (input: 'gemm' | 'winograd' | 'auto') => {
      const r = makeRegistry({ convAlgorithm: { input } });
      const dy = t(r, values, [1, 8, 6, 6], 'float32'), k = t(r, rand(8 * 8 * 9, 82), [8, 8, 3, 3], 'float32');
      return Array.from(conv2dBackwardInput(dy, k, [1, 8, 6, 6], { strides: 1, pad: 1 }).dataSync());
    };
    const gemm = run('gemm');
    expect(gemm.some((v) => v === Infinity || v === -Infinity)).toBe(true);
    expect(run('auto')).toEqual(gemm);
    expect(run('winograd')).toEqual(gemm);
  });
});
