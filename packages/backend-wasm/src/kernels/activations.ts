/** Activations and their backward kernels (assembly/activations.ts). */
import { defineKernel, sizeOfShape, type FusedActivation, type TensorInfo } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import type { WasmExports } from '../exports.js';

type B = WasmBackend;

/** The module's activation codes (assembly/activations.ts ACT_*). */
export const ACTIVATION_CODE: Record<FusedActivation, number> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3, leakyRelu: 4 };

type Forward = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';
type Backward = 'reluBackward' | 'leakyReluBackward' | 'sigmoidBackward' | 'tanhBackward';

/** y = f(x): allocate y, call `${name}_f32(x, y, n, alpha)` (alpha is read by leakyRelu only). */
function forward<K extends Forward>(kernelName: K) {
  const fn = (backend: B) => backend.wasm[`${kernelName}_f32`] as WasmExports['leakyRelu_f32'];
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { x }, attrs, backend }: { inputs: { x: TensorInfo }; attrs: { alpha?: number }; backend: B }) => {
      const px = backend.f32(x, kernelName);
      const out = backend.makeOutput(x.shape, 'float32', kernelName);
      fn(backend)(px, out.ptr, sizeOfShape(x.shape), attrs.alpha ?? 0);
      return out.info;
    }) as never,
  });
}

/** dx from dy and the forward's input (relu, leakyRelu) or output (sigmoid, tanh): `${name}_f32(dy, xOrY, dx, n, alpha)`. */
function backward<K extends Backward>(kernelName: K, saved: 'x' | 'y') {
  const fn = (backend: B) => backend.wasm[`${kernelName}_f32`] as WasmExports['leakyReluBackward_f32'];
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs, attrs, backend }: { inputs: { dy: TensorInfo; x?: TensorInfo; y?: TensorInfo }; attrs: { alpha?: number }; backend: B }) => {
      const pg = backend.f32(inputs.dy, kernelName), ps = backend.f32(inputs[saved]!, kernelName);
      const out = backend.makeOutput(inputs.dy.shape, 'float32', kernelName);
      fn(backend)(pg, ps, out.ptr, sizeOfShape(inputs.dy.shape), attrs.alpha ?? 0);
      return out.info;
    }) as never,
  });
}

export const activationKernels = [
  forward('relu'), backward('reluBackward', 'x'),
  forward('leakyRelu'), backward('leakyReluBackward', 'x'),
  forward('sigmoid'), backward('sigmoidBackward', 'y'),
  forward('tanh'), backward('tanhBackward', 'y'),
];
