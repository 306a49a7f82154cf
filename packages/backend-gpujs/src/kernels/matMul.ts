import { defineKernel, type KernelConfig, type KernelName, matMulDims, sizeOfShape, type TensorInfo } from '@backprop/tensor';
import { type B, describe, info, int, program, returnActivation } from './util.js';

/** C = op(A)·op(B) (+ bias) then the fused activation; one thread per element of C. */
export const matMul = defineKernel<'matMul', B>({
  kernelName: 'matMul',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { a, b, bias }, attrs: { transposeA, transposeB, activation, alpha }, backend }) => {
    const { m, k, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
    // A(i, q) and B(q, j) with literal strides.
    const aIdx = transposeA ? `q * ${int(m)} + i` : `i * ${int(k)} + q`;
    const bIdx = transposeB ? `j * ${int(k)} + q` : `q * ${int(n)} + j`;
    const inputs: TensorInfo[] = [a, b];
    const args = ['a', 'b'];
    if (bias) {
      inputs.push(bias);
      args.push('bias');
    }
    const src =
      `const i = Math.floor((this.thread.x + 0.5) / ${int(n)});\n` +
      `const j = this.thread.x - i * ${int(n)};\n` +
      `let s = 0;\n` +
      `for (let q = 0; q < ${int(k)}; q++) { s += a[${aIdx}] * b[${bIdx}]; }\n` +
      (bias ? 's += bias[j];\n' : '') +
      returnActivation(activation, 's', 'p[0]');
    const key = `${m}x${k}x${n}|${transposeA}|${transposeB}|${!!bias}|${activation}`;
    const params = activation === 'leakyRelu' ? [alpha] : undefined;
    const out = backend.run(
      program('matMul', key, describe({ a, b, bias }, { transposeA, transposeB, activation }), args, src, m * n),
      inputs,
      a.dtype,
      params,
    );
    return info(out, [m, n], a.dtype);
  },
});

/** y = x + bias along axis 1. */
export const biasAdd = defineKernel<'biasAdd', B>({
  kernelName: 'biasAdd',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x, bias }, backend }) => {
    const c = x.shape[1];
    const inner = sizeOfShape(x.shape.slice(2));
    const src =
      `const q = Math.floor((this.thread.x + 0.5) / ${int(inner)});\n` +
      `const ch = q - Math.floor((q + 0.5) / ${int(c)}) * ${int(c)};\n` +
      `return x[this.thread.x] + bias[ch];`;
    const out = backend.run(program('biasAdd', `${c}|${inner}`, describe({ x, bias }), ['x', 'bias'], src, sizeOfShape(x.shape)), [x, bias], x.dtype);
    return info(out, x.shape, x.dtype);
  },
});

/** Σ over every axis except 1; one thread per channel, loops over batch and spatial positions. */
export const biasGrad = defineKernel<'biasGrad', B>({
  kernelName: 'biasGrad',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy }, backend }) => {
    const [n, c] = [dy.shape[0], dy.shape[1]];
    const inner = sizeOfShape(dy.shape.slice(2));
    const src =
      `let s = 0;\n` +
      `for (let b = 0; b < ${int(n)}; b++) {\n` +
      `  const base = (b * ${int(c)} + this.thread.x) * ${int(inner)};\n` +
      `  for (let t = 0; t < ${int(inner)}; t++) { s += dy[base + t]; }\n` +
      `}\nreturn s;`;
    const out = backend.run(program('biasGrad', `${n}|${c}|${inner}`, describe({ dy }), ['dy'], src, c), [dy], dy.dtype);
    return info(out, [c], dy.dtype);
  },
});

export const linalgKernels: KernelConfig<KernelName, B>[] = [matMul, biasAdd, biasGrad] as never;
