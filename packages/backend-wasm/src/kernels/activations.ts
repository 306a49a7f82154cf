/** Activations and their backward kernels (assembly/activations.ts). */
import { defineKernel, sizeOfShape, type FusedActivation } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

/** The module's activation codes (assembly/activations.ts ACT_*). */
export const ACTIVATION_CODE: Record<FusedActivation, number> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3, leakyRelu: 4 };

export const relu = defineKernel<'relu', B>({
  kernelName: 'relu', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const px = backend.f32(x, 'relu');
    const out = backend.makeOutput(x.shape, 'float32', 'relu');
    backend.wasm.relu_f32(px, out.ptr, sizeOfShape(x.shape));
    return out.info;
  },
});

export const reluBackward = defineKernel<'reluBackward', B>({
  kernelName: 'reluBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x }, backend }) => {
    const pg = backend.f32(dy, 'reluBackward'), px = backend.f32(x, 'reluBackward');
    const out = backend.makeOutput(dy.shape, 'float32', 'reluBackward');
    backend.wasm.reluBackward_f32(pg, px, out.ptr, sizeOfShape(dy.shape));
    return out.info;
  },
});

export const leakyRelu = defineKernel<'leakyRelu', B>({
  kernelName: 'leakyRelu', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs: { alpha }, backend }) => {
    const px = backend.f32(x, 'leakyRelu');
    const out = backend.makeOutput(x.shape, 'float32', 'leakyRelu');
    backend.wasm.leakyRelu_f32(px, out.ptr, sizeOfShape(x.shape), alpha);
    return out.info;
  },
});

export const leakyReluBackward = defineKernel<'leakyReluBackward', B>({
  kernelName: 'leakyReluBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x }, attrs: { alpha }, backend }) => {
    const pg = backend.f32(dy, 'leakyReluBackward'), px = backend.f32(x, 'leakyReluBackward');
    const out = backend.makeOutput(dy.shape, 'float32', 'leakyReluBackward');
    backend.wasm.leakyReluBackward_f32(pg, px, out.ptr, sizeOfShape(dy.shape), alpha);
    return out.info;
  },
});

export const sigmoid = defineKernel<'sigmoid', B>({
  kernelName: 'sigmoid', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const px = backend.f32(x, 'sigmoid');
    const out = backend.makeOutput(x.shape, 'float32', 'sigmoid');
    backend.wasm.sigmoid_f32(px, out.ptr, sizeOfShape(x.shape));
    return out.info;
  },
});

export const sigmoidBackward = defineKernel<'sigmoidBackward', B>({
  kernelName: 'sigmoidBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const pg = backend.f32(dy, 'sigmoidBackward'), py = backend.f32(y, 'sigmoidBackward');
    const out = backend.makeOutput(dy.shape, 'float32', 'sigmoidBackward');
    backend.wasm.sigmoidBackward_f32(pg, py, out.ptr, sizeOfShape(dy.shape));
    return out.info;
  },
});

export const tanh = defineKernel<'tanh', B>({
  kernelName: 'tanh', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const px = backend.f32(x, 'tanh');
    const out = backend.makeOutput(x.shape, 'float32', 'tanh');
    backend.wasm.tanh_f32(px, out.ptr, sizeOfShape(x.shape));
    return out.info;
  },
});

export const tanhBackward = defineKernel<'tanhBackward', B>({
  kernelName: 'tanhBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const pg = backend.f32(dy, 'tanhBackward'), py = backend.f32(y, 'tanhBackward');
    const out = backend.makeOutput(dy.shape, 'float32', 'tanhBackward');
    backend.wasm.tanhBackward_f32(pg, py, out.ptr, sizeOfShape(dy.shape));
    return out.info;
  },
});

export const activationKernels = [relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward];
