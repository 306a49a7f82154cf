/** Element-wise kernels (assembly/elementwise.ts, assembly/unary.ts): allocate the output, call the export. */
import { defineKernel, sizeOfShape, type KernelConfig, type TensorInfo } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import type { WasmExports } from '../exports.js';

type B = WasmBackend;
type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
type ScalarName = 'addScalar' | 'mulScalar' | 'maximumScalar' | 'minimumScalar';
type UnaryName = 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'square' | 'abs' | 'sign';

function binary<K extends BinaryName>(kernelName: K): KernelConfig<K, B> {
  const fn = `${kernelName}_f32` as const;
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { a, b }, backend }: { inputs: { a: TensorInfo; b: TensorInfo }; backend: B }) => {
      const pa = backend.f32(a, kernelName), pb = backend.f32(b, kernelName);
      const out = backend.makeOutput(a.shape, 'float32', kernelName);
      (backend.wasm[fn] as WasmExports['add_f32'])(pa, pb, out.ptr, sizeOfShape(a.shape));
      return out.info;
    }) as never,
  });
}

function withScalar<K extends ScalarName>(kernelName: K): KernelConfig<K, B> {
  const fn = `${kernelName}_f32` as const;
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { x }, attrs: { scalar }, backend }: { inputs: { x: TensorInfo }; attrs: { scalar: number }; backend: B }) => {
      const px = backend.f32(x, kernelName);
      const out = backend.makeOutput(x.shape, 'float32', kernelName);
      backend.wasm[fn](px, scalar, out.ptr, sizeOfShape(x.shape));
      return out.info;
    }) as never,
  });
}

function unary<K extends UnaryName>(kernelName: K): KernelConfig<K, B> {
  const fn = `${kernelName}_f32` as const;
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { x }, backend }: { inputs: { x: TensorInfo }; backend: B }) => {
      const px = backend.f32(x, kernelName);
      const out = backend.makeOutput(x.shape, 'float32', kernelName);
      backend.wasm[fn](px, out.ptr, sizeOfShape(x.shape));
      return out.info;
    }) as never,
  });
}

/** x^e; the exponent goes over as a float64 (e = 2 squares, e = 1 copies). */
export const powScalar = defineKernel<'powScalar', B>({
  kernelName: 'powScalar', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs: { exponent }, backend }) => {
    const px = backend.f32(x, 'powScalar');
    const out = backend.makeOutput(x.shape, 'float32', 'powScalar');
    backend.wasm.powScalar_f32(px, exponent, out.ptr, sizeOfShape(x.shape));
    return out.info;
  },
});

export const elementwiseKernels = [
  binary('add'), binary('sub'), binary('mul'), binary('div'), binary('maximum'), binary('minimum'),
  withScalar('addScalar'), withScalar('mulScalar'), powScalar, withScalar('maximumScalar'), withScalar('minimumScalar'),
  unary('neg'), unary('exp'), unary('log'), unary('log1p'), unary('sqrt'), unary('square'), unary('abs'), unary('sign'),
];
