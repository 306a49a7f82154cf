import { defineKernel, type KernelConfig, type KernelName, sizeOfShape } from '@backprop/tensor';
import { rowStats } from './activations.js';
import { type B, describe, info, int, program } from './util.js';

/**
 * Softmax + categorical cross-entropy from logits (apps/docs/math/losses.md): two programs, the
 * mean loss (one thread looping over the rows) and the gradient (p·Σy − y)/N.
 */
export const softmaxCrossEntropy = defineKernel<'softmaxCrossEntropy', B>({
  kernelName: 'softmaxCrossEntropy',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { logits, labels }, backend }) => {
    const [N, K] = logits.shape;
    const detail = describe({ logits, labels });
    const lossSrc =
      `let total = 0;\n` +
      `for (let n = 0; n < ${int(N)}; n++) {\n` +
      `  const rs = n * ${int(K)};\n` +
      `  let m = x[rs];\n` +
      `  for (let j = 1; j < ${int(K)}; j++) { const t = x[rs + j]; if (t > m) { m = t; } }\n` +
      `  let se = 0;\n  let ys = 0;\n  let yx = 0;\n` +
      `  for (let j = 0; j < ${int(K)}; j++) { const xv = x[rs + j]; const yv = y[rs + j]; se += Math.exp(xv - m); ys += yv; yx += yv * xv; }\n` +
      `  total += ys * (m + Math.log(se)) - yx;\n` +
      `}\nreturn total / ${int(N)};`;
    const gradSrc =
      `const row = Math.floor((this.thread.x + 0.5) / ${int(K)});\n` +
      `${rowStats('x', K, 'row')}\n` +
      `let ys = 0;\nfor (let j = 0; j < ${int(K)}; j++) { ys += y[rs + j]; }\n` +
      `const pr = Math.exp(x[this.thread.x] - m - Math.log(se));\n` +
      `return (pr * ys - y[this.thread.x]) / ${int(N)};`;
    const key = `${N}x${K}`;
    const loss = backend.run(program('softmaxCrossEntropy.loss', key, detail, ['x', 'y'], lossSrc, 1), [logits, labels], logits.dtype);
    const grad = backend.run(program('softmaxCrossEntropy.grad', key, detail, ['x', 'y'], gradSrc, N * K), [logits, labels], logits.dtype);
    return [info(loss, [], logits.dtype), info(grad, logits.shape, logits.dtype)];
  },
});

/**
 * Sigmoid + binary cross-entropy from logits: ℓ = max(x,0) − xy + log1p(e^−|x|),
 * loss = mean, gradient (σ(x) − y)/M.
 */
export const sigmoidCrossEntropy = defineKernel<'sigmoidCrossEntropy', B>({
  kernelName: 'sigmoidCrossEntropy',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { logits, labels }, backend }) => {
    const M = sizeOfShape(logits.shape);
    const detail = describe({ logits, labels });
    const lossSrc =
      `let total = 0;\n` +
      `for (let q = 0; q < ${int(M)}; q++) {\n` +
      `  const xv = x[q];\n  const yv = y[q];\n` +
      `  let ax = xv;\n  if (xv < 0) { ax = -xv; }\n` +
      `  const e = Math.exp(-ax);\n  const u = 1 + e;\n` +
      // log1p(e) with the u = 1 + e correction (exact for tiny e)
      `  let lp = e;\n  if (!(u === 1)) { lp = Math.log(u) * (e / (u - 1)); }\n` +
      `  let mx = 0;\n  if (xv > 0) { mx = xv; }\n` +
      `  total += mx - xv * yv + lp;\n` +
      `}\nreturn total / ${int(M)};`;
    const gradSrc =
      `const xv = x[this.thread.x];\nconst yv = y[this.thread.x];\n` +
      `let sg = 0;\n` +
      `if (xv >= 0) { sg = 1 / (1 + Math.exp(-xv)); } else { const e = Math.exp(xv); sg = e / (1 + e); }\n` +
      `return (sg - yv) / ${int(M)};`;
    const key = `${M}`;
    const loss = backend.run(program('sigmoidCrossEntropy.loss', key, detail, ['x', 'y'], lossSrc, 1), [logits, labels], logits.dtype);
    const grad = backend.run(program('sigmoidCrossEntropy.grad', key, detail, ['x', 'y'], gradSrc, M), [logits, labels], logits.dtype);
    return [info(loss, [], logits.dtype), info(grad, logits.shape, logits.dtype)];
  },
});

export const headKernels: KernelConfig<KernelName, B>[] = [softmaxCrossEntropy, sigmoidCrossEntropy] as never;
