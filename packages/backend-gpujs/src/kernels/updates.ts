/**
 * Optimizer updates, in place (apps/docs/math/gradient-descent.md). gpu.js kernels have one output, so each
 * state buffer gets its own program; states are updated first (they only read
 * pre-update values), then the parameter from the new states. Each storage's device
 * handle is swapped for the new result and the old one is freed, so `memory()` is
 * unchanged by an update. Float hyper-parameters travel in the parameter vector `p`
 * (p[0] = learning rate, p[1] = weight decay), so schedules never recompile.
 */
import { defineKernel, type KernelConfig, type KernelName, sizeOfShape, type TensorInfo } from '@backprop/tensor';
import { type B, describe, program } from './util.js';

const G = 'const gr = g[this.thread.x] + p[1] * th[this.thread.x];\n';

function update(backend: B, kernel: string, target: TensorInfo, args: string[], inputs: TensorInfo[], body: string, params: number[], detail: string): void {
  backend.runInto(backend.check(target), program(kernel, '', detail, args, body, sizeOfShape(target.shape)), inputs, params);
}

export const sgdUpdate = defineKernel<'sgdUpdate', B>({
  kernelName: 'sgdUpdate',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { param, grad }, attrs: { learningRate, weightDecay }, backend }) => {
    const d = describe({ param, grad });
    update(backend, 'sgdUpdate', param, ['th', 'g'], [param, grad], `${G}return th[this.thread.x] - p[0] * gr;`, [learningRate, weightDecay], d);
  },
});

export const momentumUpdate = defineKernel<'momentumUpdate', B>({
  kernelName: 'momentumUpdate',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { param, grad, velocity }, attrs: { learningRate, weightDecay, momentum, nesterov }, backend }) => {
    const d = describe({ param, grad, velocity });
    const params = [learningRate, weightDecay, momentum];
    update(backend, 'momentumUpdate.velocity', velocity, ['th', 'g', 'vel'], [param, grad, velocity], `${G}return p[2] * vel[this.thread.x] + gr;`, params, d);
    const step = nesterov ? 'gr + p[2] * vel[this.thread.x]' : 'vel[this.thread.x]';
    update(
      backend,
      nesterov ? 'momentumUpdate.param.nesterov' : 'momentumUpdate.param',
      param,
      ['th', 'g', 'vel'],
      [param, grad, velocity],
      `${G}return th[this.thread.x] - p[0] * (${step});`,
      params,
      d,
    );
  },
});

export const adamUpdate = defineKernel<'adamUpdate', B>({
  kernelName: 'adamUpdate',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { param, grad, m, v }, attrs: { learningRate, weightDecay, beta1, beta2, epsilon, step }, backend }) => {
    const d = describe({ param, grad, m, v });
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    // p = [lr, wd, β1, β2, ε, 1 − β1ᵗ, 1 − β2ᵗ, 1 − β1, 1 − β2]
    const params = [learningRate, weightDecay, beta1, beta2, epsilon, c1, c2, 1 - beta1, 1 - beta2];
    update(backend, 'adamUpdate.m', m, ['th', 'g', 'mm'], [param, grad, m], `${G}return p[2] * mm[this.thread.x] + p[7] * gr;`, params, d);
    update(backend, 'adamUpdate.v', v, ['th', 'g', 'vv'], [param, grad, v], `${G}return p[3] * vv[this.thread.x] + p[8] * gr * gr;`, params, d);
    update(
      backend,
      'adamUpdate.param',
      param,
      ['th', 'mm', 'vv'],
      [param, m, v],
      'return th[this.thread.x] - (p[0] * (mm[this.thread.x] / p[5])) / (Math.sqrt(vv[this.thread.x] / p[6]) + p[4]);',
      params,
      d,
    );
  },
});

export const rmspropUpdate = defineKernel<'rmspropUpdate', B>({
  kernelName: 'rmspropUpdate',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { param, grad, meanSquare }, attrs: { learningRate, weightDecay, rho, epsilon }, backend }) => {
    const d = describe({ param, grad, meanSquare });
    const params = [learningRate, weightDecay, rho, epsilon, 1 - rho];
    update(backend, 'rmspropUpdate.s', meanSquare, ['th', 'g', 'ms'], [param, grad, meanSquare], `${G}return p[2] * ms[this.thread.x] + p[4] * gr * gr;`, params, d);
    update(
      backend,
      'rmspropUpdate.param',
      param,
      ['th', 'g', 'ms'],
      [param, grad, meanSquare],
      `${G}return th[this.thread.x] - (p[0] * gr) / (Math.sqrt(ms[this.thread.x]) + p[3]);`,
      params,
      d,
    );
  },
});

export const updateKernels: KernelConfig<KernelName, B>[] = [sgdUpdate, momentumUpdate, adamUpdate, rmspropUpdate] as never;
