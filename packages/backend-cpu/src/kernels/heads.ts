import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

/**
 * Softmax + categorical CE from logits (apps/docs/math/losses.md):
 * ℓ_n = (Σ_k y_nk)·LSE(x_n) − Σ_k y_nk x_nk, loss = mean_n ℓ_n, grad = (p·Σy − y)/N.
 */
export const softmaxCrossEntropy = defineKernel<'softmaxCrossEntropy', B>({
  kernelName: 'softmaxCrossEntropy', backendName: 'cpu',
  kernelFunc: ({ inputs: { logits, labels }, backend }) => {
    const x = backend.values(logits), y = backend.values(labels);
    const [n, k] = logits.shape;
    const grad = backend.makeOutput(logits.shape, logits.dtype);
    const gv = grad.values;
    const invN = n > 0 ? 1 / n : 0;
    let total = 0;
    for (let r = 0; r < n; r++) {
      const s = r * k, e = s + k;
      let m = -Infinity;
      for (let i = s; i < e; i++) if (x[i] > m || x[i] !== x[i]) m = x[i];
      let z = 0, ySum = 0, yx = 0;
      for (let i = s; i < e; i++) {
        const t = Math.exp(x[i] - m);
        gv[i] = t;
        z += t;
        ySum += y[i];
        yx += y[i] * x[i];
      }
      total += ySum * (m + Math.log(z)) - yx;
      const scale = ySum / z;
      for (let i = s; i < e; i++) gv[i] = (gv[i] * scale - y[i]) * invN;
    }
    const loss = backend.makeOutput([], logits.dtype);
    loss.values[0] = total * invN;
    return [loss.info, grad.info];
  },
});

/**
 * Sigmoid + BCE from logits: ℓ = max(x,0) − x·y + log1p(e^−|x|), loss = mean over M,
 * grad = (σ(x) − y)/M with the stable two-branch sigmoid.
 */
export const sigmoidCrossEntropy = defineKernel<'sigmoidCrossEntropy', B>({
  kernelName: 'sigmoidCrossEntropy', backendName: 'cpu',
  kernelFunc: ({ inputs: { logits, labels }, backend }) => {
    const x = backend.values(logits), y = backend.values(labels);
    const mCount = x.length;
    const grad = backend.makeOutput(logits.shape, logits.dtype);
    const gv = grad.values;
    const invM = mCount > 0 ? 1 / mCount : 0;
    let total = 0;
    for (let i = 0; i < mCount; i++) {
      const v = x[i], t = y[i];
      const e = Math.exp(-Math.abs(v));
      total += (v > 0 ? v : 0) - v * t + Math.log1p(e);
      const sig = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      gv[i] = (sig - t) * invM;
    }
    const loss = backend.makeOutput([], logits.dtype);
    loss.values[0] = total * invM;
    return [loss.info, grad.info];
  },
});

export const headKernels = [softmaxCrossEntropy, sigmoidCrossEntropy];
