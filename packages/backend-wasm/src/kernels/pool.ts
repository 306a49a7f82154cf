/** Max, average and L2 pooling and their backward kernels (assembly/pool.ts). The math: apps/docs/math/pooling.md. */
import { computePool2DInfo, defineKernel, type PoolGeometry, type TensorInfo } from '@backprop/tensor';
import type { WasmBackend, WasmOutput } from '../backend.js';

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

/**
 * Runs a pooling export over the planes (N·C), cut across the threads when big enough: every
 * plane is pooled on its own, so a part of the planes is computed exactly as in one call.
 * `inputs` are [pointer, plane size] pairs (pointer 0: unused), `output` the output's pointer
 * and plane size; `args(inputs, output, dims)` lays out the export's arguments.
 */
function poolPlanes(
  backend: B, kernel: string, fn: string, dims: PoolDims, inputs: [number, number][], output: WasmOutput, outPlane: number,
  args: (pointers: number[], o: number, dims: PoolDims) => number[],
): void {
  const [planes, , , kh, kw, , , ho, wo] = dims;
  backend.split(kernel, planes, planes * ho * wo * kh * kw, [], [output], (from, to) => {
    const part: PoolDims = [...dims];
    part[0] = to - from;
    const pointers = inputs.map(([ptr, plane]) => (ptr === 0 ? 0 : ptr + from * plane * 4));
    return { fn, args: args(pointers, output.ptr + from * outPlane * 4, part) };
  });
}

/** A forward pooling kernel: allocate the pooled output, run the export on it (`flag`: its leading argument, if any). */
function forward<K extends 'maxPool' | 'avgPool' | 'l2Pool'>(kernelName: K, fn: 'maxPool_f32' | 'sumPool_f32', flag: number[]) {
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { x }, attrs, backend }: { inputs: { x: TensorInfo }; attrs: PoolGeometry; backend: B }) => {
      const { outShape, dims } = poolDims(kernelName, x.shape, attrs);
      const px = backend.f32(x, kernelName);
      const out = backend.makeOutput(outShape, 'float32', kernelName);
      const [, h, w, , , , , ho, wo] = dims;
      poolPlanes(backend, kernelName, fn, dims, [[px, h * w]], out, ho * wo, ([xp], o, d) => [...flag, xp, o, ...d]);
      return out.info;
    }) as never,
  });
}

export const maxPool = forward('maxPool', 'maxPool_f32', []);
export const avgPool = forward('avgPool', 'sumPool_f32', [0]);
export const l2Pool = forward('l2Pool', 'sumPool_f32', [1]);

/** dy goes to each window's first maximum (NaN wins), accumulating overlaps. */
export const maxPoolBackward = defineKernel<'maxPoolBackward', B>({
  kernelName: 'maxPoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, x }, attrs, backend }) => {
    const { dims } = poolDims('maxPoolBackward', x.shape, attrs);
    const pg = backend.f32(dy, 'maxPoolBackward'), px = backend.f32(x, 'maxPoolBackward');
    const out = backend.makeOutput(x.shape, 'float32', 'maxPoolBackward');
    const [, h, w, , , , , ho, wo] = dims;
    poolPlanes(backend, 'maxPoolBackward', 'maxPoolBackward_f32', dims, [[pg, ho * wo], [px, h * w]], out, h * w, ([g, xp], o, d) => [g, xp, o, ...d]);
    return out.info;
  },
});

export const avgPoolBackward = defineKernel<'avgPoolBackward', B>({
  kernelName: 'avgPoolBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy }, attrs, backend }) => {
    const { dims } = poolDims('avgPoolBackward', attrs.inputShape, attrs);
    const pg = backend.f32(dy, 'avgPoolBackward');
    const out = backend.makeOutput(attrs.inputShape, 'float32', 'avgPoolBackward');
    const [, h, w, , , , , ho, wo] = dims;
    poolPlanes(backend, 'avgPoolBackward', 'sumPoolBackward_f32', dims, [[pg, ho * wo]], out, h * w, ([g], o, d) => [0, g, 0, 0, o, ...d]);
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
    const [, h, w, , , , , ho, wo] = dims;
    const inputs: [number, number][] = [[pg, ho * wo], [px, h * w], [py, ho * wo]];
    poolPlanes(backend, 'l2PoolBackward', 'sumPoolBackward_f32', dims, inputs, out, h * w, ([g, xp, yp], o, d) => [1, g, xp, yp, o, ...d]);
    return out.info;
  },
});

export const poolKernels = [maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward];
