import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

/** θ ← θ − lr·(g + wd·θ), in place. */
export const sgdUpdate = defineKernel<'sgdUpdate', B>({
  kernelName: 'sgdUpdate', backendName: 'cpu',
  kernelFunc: ({ inputs: { param, grad }, attrs: { learningRate: lr, weightDecay: wd }, backend }) => {
    const p = backend.values(param), g = backend.values(grad);
    if (wd === 0) for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
    else for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] + wd * p[i]);
  },
});

/** v ← μv + g'; θ ← θ − lr·v (Nesterov: θ ← θ − lr·(g' + μv)), g' = g + wd·θ. */
export const momentumUpdate = defineKernel<'momentumUpdate', B>({
  kernelName: 'momentumUpdate', backendName: 'cpu',
  kernelFunc: ({ inputs: { param, grad, velocity }, attrs: { learningRate: lr, weightDecay: wd, momentum: mu, nesterov }, backend }) => {
    const p = backend.values(param), g = backend.values(grad), v = backend.values(velocity);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const vi = mu * v[i] + gi;
      v[i] = vi;
      p[i] -= nesterov ? lr * (gi + mu * vi) : lr * vi;
    }
  },
});

/**
 * m ← β1 m + (1−β1) g'; v ← β2 v + (1−β2) g'²;
 * θ ← θ − lr·(m/(1−β1ᵗ)) / (sqrt(v/(1−β2ᵗ)) + ε).
 */
export const adamUpdate = defineKernel<'adamUpdate', B>({
  kernelName: 'adamUpdate', backendName: 'cpu',
  kernelFunc: ({ inputs: { param, grad, m, v }, attrs, backend }) => {
    const { learningRate: lr, weightDecay: wd, beta1, beta2, epsilon, step } = attrs;
    const p = backend.values(param), g = backend.values(grad), mv = backend.values(m), vv = backend.values(v);
    const c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
    const b1c = 1 - beta1, b2c = 1 - beta2;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const mi = beta1 * mv[i] + b1c * gi;
      const vi = beta2 * vv[i] + b2c * gi * gi;
      mv[i] = mi;
      vv[i] = vi;
      p[i] -= (lr * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
    }
  },
});

/** s ← ρs + (1−ρ) g'²; θ ← θ − lr·g'/(sqrt(s) + ε). */
export const rmspropUpdate = defineKernel<'rmspropUpdate', B>({
  kernelName: 'rmspropUpdate', backendName: 'cpu',
  kernelFunc: ({ inputs: { param, grad, meanSquare }, attrs: { learningRate: lr, weightDecay: wd, rho, epsilon }, backend }) => {
    const p = backend.values(param), g = backend.values(grad), s = backend.values(meanSquare);
    const rc = 1 - rho;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      const si = rho * s[i] + rc * gi * gi;
      s[i] = si;
      p[i] -= (lr * gi) / (Math.sqrt(si) + epsilon);
    }
  },
});

export const updateKernels = [sgdUpdate, momentumUpdate, adamUpdate, rmspropUpdate];
