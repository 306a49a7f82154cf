/**
 * C = op(A)·op(B) (+ bias per column), then the fused activation: the GEMM (assembly/gemm.ts)
 * writes C straight into the output, one more pass over C adds the bias and applies the
 * activation (assembly/matmul.ts).
 */
import { defineKernel, matMulDims } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import { ACTIVATION_CODE } from './activations.js';

export const matMul = defineKernel<'matMul', WasmBackend>({
  kernelName: 'matMul', backendName: 'wasm',
  kernelFunc: ({ inputs: { a, b, bias }, attrs: { transposeA, transposeB, activation, alpha }, backend }) => {
    const a1 = a.shape[1], b1 = b.shape[1];
    const { m, k, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
    const pa = backend.f32(a, 'matMul'), pb = backend.f32(b, 'matMul');
    const pbias = bias !== undefined ? backend.f32(bias, 'matMul') : 0;
    const out = backend.makeOutput([m, n], 'float32', 'matMul');
    if (m === 0 || n === 0) return out.info;
    const wasm = backend.wasm;
    backend.withScratch('matMul', [backend.gemmScratchBytes(m, n, k)], [out], (scratch) => {
      // The stored row strides: A is (·, a1) and B is (·, b1) whether or not they are transposed.
      // On threads: blocks of C, each computed as one gemm call would (bit-identical).
      const call = { transA: transposeA, transB: transposeB, M: m, N: n, K: k, a: pa, lda: a1, b: pb, ldb: b1, c: out.ptr, ldc: n, accumulate: false };
      backend.gemm(call, scratch);
    });
    if (bias !== undefined || activation !== 'linear') {
      wasm.biasColumnsActivate_f32(out.ptr, m, n, pbias, +(bias !== undefined), ACTIVATION_CODE[activation], alpha);
    }
    return out.info;
  },
});
