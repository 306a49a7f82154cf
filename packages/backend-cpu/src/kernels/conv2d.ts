/**
 * conv2d, fast: picks Winograd, direct or im2col + GEMM per call (forwardAlgorithm below).
 * The readable version, the literal 7-nested sum every path must match, is `conv2d` in
 * [reference.ts](../../../tensor/src/testing/reference.ts).
 * The math: [convolution.md](../../../../apps/docs/math/convolution.md).
 */
import { computeConv2DInfo, type Conv2DInfo, defineKernel, type TypedArray, winogradApplies, winogradPays } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import type { ConvAlgorithm } from '../options.js';
import { allFinite } from './util.js';
import { winogradFilters } from './winograd.js';

type B = CpuBackend;

/**
 * Winograd F(2×2, 3×3) for 3×3 stride-1 convs with enough channels and filters to share
 * its transforms and outputs big enough that the 2×2 tiles waste little (x[32,32,13,13] ⊛
 * k[64,32,3,3]: 40 → 25 ms), on finite inputs only (its transforms add and subtract, so
 * an Inf would become Inf − Inf = NaN); direct convolution when the column matrix would
 * be short (small C·kh·kw); im2col + GEMM otherwise.
 */
export function forwardAlgorithm(
  choice: ConvAlgorithm['forward'], g: Conv2DInfo, x: TypedArray, filter: TypedArray,
): 'conv2dWinograd' | 'conv2dDirect' | 'conv2dGemm' {
  if (choice === 'direct') return 'conv2dDirect';
  if (choice === 'gemm') return 'conv2dGemm';
  if (choice === 'winograd') return winogradApplies(g) && allFinite(x) && allFinite(filter) ? 'conv2dWinograd' : 'conv2dGemm';
  if (winogradPays(g) && allFinite(x) && allFinite(filter)) return 'conv2dWinograd';
  return g.taps <= 128 ? 'conv2dDirect' : 'conv2dGemm';
}

/**
 * Winograd, direct convolution, or Y_n[F, P] = K[F, CKK] · col_n[CKK, P] per image (im2col
 * + GEMM), as forwardAlgorithm picks; the loops are in winograd.ts, direct.ts and
 * im2colGemm.ts, split over threads by threads/jobs.ts.
 */
export const conv2d = defineKernel<'conv2d', B>({
  kernelName: 'conv2d', backendName: 'cpu',
  kernelFunc: ({ inputs: { x, filter, bias }, attrs: { strides, pad, activation, alpha }, backend }) => {
    // The sizes, once per call: @backprop/tensor's geometry (Eq 2.1 with the floor).
    const g = computeConv2DInfo(x.shape, filter.shape, strides, pad, 'conv2d');
    const n = g.batch, f = g.outChannels;
    const out = backend.makeOutput(g.outShape, x.dtype);
    const o = out.values;
    if (o.length === 0) return out.info;
    const args = {
      x: backend.values(x), k: backend.values(filter), bias: bias !== undefined ? backend.values(bias) : undefined,
      n, f, g, o, activation, alpha,
    };
    // Images are independent: threads take shares of the batch (small shares: a share
    // costs only a filter repack, and a worker that is descheduled mid-share stalls less).
    const algorithm = forwardAlgorithm(backend.convAlgorithm.forward, g, args.x, args.k);
    // Winograd's filter transform is done once here; the shares get it through args.k.
    if (algorithm === 'conv2dWinograd') args.k = winogradFilters(backend, args.k, f, g.inChannels, false);
    backend.parallel(algorithm, args, n, 2 * o.length * g.taps, 8);
    return out.info;
  },
});
