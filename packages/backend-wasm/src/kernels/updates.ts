/** Optimizer updates, in place on the parameter and state tensors (assembly/updates.ts). */
import { defineKernel, sizeOfShape } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

export const sgdUpdate = defineKernel<'sgdUpdate', B>({
  kernelName: 'sgdUpdate', backendName: 'wasm',
  kernelFunc: ({ inputs: { param, grad }, attrs: { learningRate, weightDecay }, backend }) => {
    const pp = backend.f32(param, 'sgdUpdate'), pg = backend.f32(grad, 'sgdUpdate');
    backend.wasm.sgdUpdate_f32(pp, pg, sizeOfShape(param.shape), learningRate, weightDecay);
  },
});

export const momentumUpdate = defineKernel<'momentumUpdate', B>({
  kernelName: 'momentumUpdate', backendName: 'wasm',
  kernelFunc: ({ inputs: { param, grad, velocity }, attrs: { learningRate, weightDecay, momentum, nesterov }, backend }) => {
    const pp = backend.f32(param, 'momentumUpdate'), pg = backend.f32(grad, 'momentumUpdate'), pv = backend.f32(velocity, 'momentumUpdate');
    backend.wasm.momentumUpdate_f32(pp, pg, pv, sizeOfShape(param.shape), learningRate, weightDecay, momentum, +nesterov);
  },
});

export const adamUpdate = defineKernel<'adamUpdate', B>({
  kernelName: 'adamUpdate', backendName: 'wasm',
  kernelFunc: ({ inputs: { param, grad, m, v }, attrs, backend }) => {
    const { learningRate, weightDecay, beta1, beta2, epsilon, step } = attrs;
    const pp = backend.f32(param, 'adamUpdate'), pg = backend.f32(grad, 'adamUpdate');
    const pm = backend.f32(m, 'adamUpdate'), pv = backend.f32(v, 'adamUpdate');
    // The bias corrections, once per step in float64.
    const c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
    backend.wasm.adamUpdate_f32(pp, pg, pm, pv, sizeOfShape(param.shape), learningRate, weightDecay, beta1, beta2, epsilon, c1, c2);
  },
});

export const rmspropUpdate = defineKernel<'rmspropUpdate', B>({
  kernelName: 'rmspropUpdate', backendName: 'wasm',
  kernelFunc: ({ inputs: { param, grad, meanSquare }, attrs: { learningRate, weightDecay, rho, epsilon }, backend }) => {
    const pp = backend.f32(param, 'rmspropUpdate'), pg = backend.f32(grad, 'rmspropUpdate'), ps = backend.f32(meanSquare, 'rmspropUpdate');
    backend.wasm.rmspropUpdate_f32(pp, pg, ps, sizeOfShape(param.shape), learningRate, weightDecay, rho, epsilon);
  },
});

export const updateKernels = [sgdUpdate, momentumUpdate, adamUpdate, rmspropUpdate];
