/** Max, average and L2 pooling and their backward kernels (assembly/pool.ts). The math: apps/docs/math/pooling.md. */
import { computePool2DInfo, defineKernel, type Pool2DInfo, type PoolGeometry } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

/** [planes, h, w, kh, kw, sh, sw, ho, wo] from @backprop/tensor's geometry. */
function poolDims(op: string, shape: readonly number[], geo: PoolGeometry): [Pool2DInfo, [number, number, number, number, number, number, number, number, number]] {
  const d = computePool2DInfo(shape, geo.poolSize, geo.strides, op);
  return [d, [d.planes, d.inHeight, d.inWidth, d.poolHeight, d.poolWidth, d.strideHeight, d.strideWidth, d.outHeight, d.outWidth]];
}

export const maxPool = defineKernel<'maxPool', B>({
  kernelName: 'maxPool', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const [d, dims] = poolDims('maxPool', x.shape, attrs);
    const px = backend.f32(x, 'maxPool');
    const out = backend.makeOutput(d.outShape, 'float32', 'maxPool');
    backend.wasm.maxPool_f32(px, out.ptr, ...dims);
    return out.info;
  },
});

export const maxPoolBackward = defineKernel<'maxPoolBackward', B>({
  kernelName: 'maxPoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x }, attrs, backend }) => {
    const [, dims] = poolDims('maxPoolBackward', x.shape, attrs);
    const pg = backend.f32(dy, 'maxPoolBackward'), px = backend.f32(x, 'maxPoolBackward');
    const out = backend.makeOutput(x.shape, 'float32', 'maxPoolBackward');
    backend.wasm.maxPoolBackward_f32(pg, px, out.ptr, ...dims);
    return out.info;
  },
});

export const avgPool = defineKernel<'avgPool', B>({
  kernelName: 'avgPool', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const [d, dims] = poolDims('avgPool', x.shape, attrs);
    const px = backend.f32(x, 'avgPool');
    const out = backend.makeOutput(d.outShape, 'float32', 'avgPool');
    backend.wasm.avgPool_f32(px, out.ptr, ...dims);
    return out.info;
  },
});

export const avgPoolBackward = defineKernel<'avgPoolBackward', B>({
  kernelName: 'avgPoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy }, attrs, backend }) => {
    const [, dims] = poolDims('avgPoolBackward', attrs.inputShape, attrs);
    const pg = backend.f32(dy, 'avgPoolBackward');
    const out = backend.makeOutput(attrs.inputShape, 'float32', 'avgPoolBackward');
    backend.wasm.avgPoolBackward_f32(pg, out.ptr, ...dims);
    return out.info;
  },
});

export const l2Pool = defineKernel<'l2Pool', B>({
  kernelName: 'l2Pool', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const [d, dims] = poolDims('l2Pool', x.shape, attrs);
    const px = backend.f32(x, 'l2Pool');
    const out = backend.makeOutput(d.outShape, 'float32', 'l2Pool');
    backend.wasm.l2Pool_f32(px, out.ptr, ...dims);
    return out.info;
  },
});

export const l2PoolBackward = defineKernel<'l2PoolBackward', B>({
  kernelName: 'l2PoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x, y }, attrs, backend }) => {
    const [, dims] = poolDims('l2PoolBackward', x.shape, attrs);
    const pg = backend.f32(dy, 'l2PoolBackward'), px = backend.f32(x, 'l2PoolBackward'), py = backend.f32(y, 'l2PoolBackward');
    const out = backend.makeOutput(x.shape, 'float32', 'l2PoolBackward');
    backend.wasm.l2PoolBackward_f32(pg, px, py, out.ptr, ...dims);
    return out.info;
  },
});

export const poolKernels = [maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward];
