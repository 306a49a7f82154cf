/** Max, average and L2 pooling and their backward kernels (assembly/pool.ts). The math: apps/docs/math/pooling.md. */
import { computePool2DInfo, defineKernel, type PoolGeometry, type TensorInfo } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;
type PoolDims = [number, number, number, number, number, number, number, number, number];

/** The output shape and [planes, h, w, kh, kw, sh, sw, ho, wo], from @backprop/tensor's geometry. */
function poolDims(op: string, shape: readonly number[], geo: PoolGeometry): { outShape: number[]; dims: PoolDims } {
  const d = computePool2DInfo(shape, geo.poolSize, geo.strides, op);
  return {
    outShape: [...d.outShape],
    dims: [d.planes, d.inHeight, d.inWidth, d.poolHeight, d.poolWidth, d.strideHeight, d.strideWidth, d.outHeight, d.outWidth],
  };
}

/** A forward pooling kernel: allocate the pooled output, run `call` on it. */
function forward<K extends 'maxPool' | 'avgPool' | 'l2Pool'>(kernelName: K, call: (backend: B, x: number, o: number, dims: PoolDims) => void) {
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { x }, attrs, backend }: { inputs: { x: TensorInfo }; attrs: PoolGeometry; backend: B }) => {
      const { outShape, dims } = poolDims(kernelName, x.shape, attrs);
      const px = backend.f32(x, kernelName);
      const out = backend.makeOutput(outShape, 'float32', kernelName);
      call(backend, px, out.ptr, dims);
      return out.info;
    }) as never,
  });
}

export const maxPool = forward('maxPool', (b, x, o, dims) => b.wasm.maxPool_f32(x, o, ...dims));
export const avgPool = forward('avgPool', (b, x, o, dims) => b.wasm.sumPool_f32(0, x, o, ...dims));
export const l2Pool = forward('l2Pool', (b, x, o, dims) => b.wasm.sumPool_f32(1, x, o, ...dims));

/** dy goes to each window's first maximum (NaN wins), accumulating overlaps. */
export const maxPoolBackward = defineKernel<'maxPoolBackward', B>({
  kernelName: 'maxPoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x }, attrs, backend }) => {
    const { dims } = poolDims('maxPoolBackward', x.shape, attrs);
    const pg = backend.f32(dy, 'maxPoolBackward'), px = backend.f32(x, 'maxPoolBackward');
    const out = backend.makeOutput(x.shape, 'float32', 'maxPoolBackward');
    backend.wasm.maxPoolBackward_f32(pg, px, out.ptr, ...dims);
    return out.info;
  },
});

export const avgPoolBackward = defineKernel<'avgPoolBackward', B>({
  kernelName: 'avgPoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy }, attrs, backend }) => {
    const { dims } = poolDims('avgPoolBackward', attrs.inputShape, attrs);
    const pg = backend.f32(dy, 'avgPoolBackward');
    const out = backend.makeOutput(attrs.inputShape, 'float32', 'avgPoolBackward');
    backend.wasm.sumPoolBackward_f32(0, pg, 0, 0, out.ptr, ...dims);
    return out.info;
  },
});

/** dx += dy · x / y, 0 where y = 0. */
export const l2PoolBackward = defineKernel<'l2PoolBackward', B>({
  kernelName: 'l2PoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x, y }, attrs, backend }) => {
    const { dims } = poolDims('l2PoolBackward', x.shape, attrs);
    const pg = backend.f32(dy, 'l2PoolBackward'), px = backend.f32(x, 'l2PoolBackward'), py = backend.f32(y, 'l2PoolBackward');
    const out = backend.makeOutput(x.shape, 'float32', 'l2PoolBackward');
    backend.wasm.sumPoolBackward_f32(1, pg, px, py, out.ptr, ...dims);
    return out.info;
  },
});

export const poolKernels = [maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward];
