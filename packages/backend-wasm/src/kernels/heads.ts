/** The fused loss heads (assembly/heads.ts). The math: apps/docs/math/losses.md. */
import { defineKernel, sizeOfShape } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

/** Softmax + categorical cross-entropy from logits (N, K): [mean loss, (p·Σy − y)/N]. */
export const softmaxCrossEntropy = defineKernel<'softmaxCrossEntropy', B>({
  kernelName: 'softmaxCrossEntropy', backendName: 'wasm',
  kernelFunc: ({ inputs: { logits, labels }, backend }) => {
    const px = backend.f32(logits, 'softmaxCrossEntropy'), py = backend.f32(labels, 'softmaxCrossEntropy');
    const loss = backend.makeOutput([], 'float32', 'softmaxCrossEntropy');
    const grad = backend.makeOutputAfter([loss], logits.shape, 'float32', 'softmaxCrossEntropy');
    const [n, k] = logits.shape;
    backend.wasm.softmaxCrossEntropy_f32(px, py, loss.ptr, grad.ptr, n, k);
    return [loss.info, grad.info];
  },
});

/** Sigmoid + binary cross-entropy from logits, M elements: [mean loss, (σ(x) − y)/M]. */
export const sigmoidCrossEntropy = defineKernel<'sigmoidCrossEntropy', B>({
  kernelName: 'sigmoidCrossEntropy', backendName: 'wasm',
  kernelFunc: ({ inputs: { logits, labels }, backend }) => {
    const px = backend.f32(logits, 'sigmoidCrossEntropy'), py = backend.f32(labels, 'sigmoidCrossEntropy');
    const loss = backend.makeOutput([], 'float32', 'sigmoidCrossEntropy');
    const grad = backend.makeOutputAfter([loss], logits.shape, 'float32', 'sigmoidCrossEntropy');
    backend.wasm.sigmoidCrossEntropy_f32(px, py, loss.ptr, grad.ptr, sizeOfShape(logits.shape));
    return [loss.info, grad.info];
  },
});

export const headKernels = [softmaxCrossEntropy, sigmoidCrossEntropy];
