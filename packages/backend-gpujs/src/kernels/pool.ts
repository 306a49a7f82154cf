import {
  computePool2DInfo, defineKernel, type KernelConfig, type KernelName, type Pool2DInfo, type PoolGeometry, sizeOfShape, type TensorInfo,
} from '@backprop/tensor';
import { type B, describe, info, int, program, unravel } from './util.js';

/** The sizes, once per call: @backprop/tensor's geometry (Eq 2.2 with the floor). */
const geometry = (op: string, inputShape: readonly number[], attrs: PoolGeometry): Pool2DInfo =>
  computePool2DInfo(inputShape, attrs.poolSize, attrs.strides, op);

const geoKey = (g: Pool2DInfo): string =>
  `${g.batch},${g.channels},${g.inHeight},${g.inWidth}|${g.poolHeight},${g.poolWidth}|${g.strideHeight},${g.strideWidth}`;

/** Statements for one thread per output window: declares `xb` (the window's top-left input index). */
function windowStart(g: Pool2DInfo): string {
  const { batch: N, channels: C, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, strideHeight: S0, strideWidth: S1 } = g;
  return (
    unravel('this.thread.x', [N, C, Ho, Wo], ['n', 'c', 'i', 'j']) +
    `\nconst xb = ((n * ${int(C)} + c) * ${int(H)} + i * ${int(S0)}) * ${int(W)} + j * ${int(S1)};`
  );
}

/** Loops over the window at `xb`, with `wv` its value at (wa, wb). */
function forWindow(g: Pool2DInfo, body: string): string {
  const { inWidth: W, poolHeight: kh, poolWidth: kw } = g;
  return (
    `for (let wa = 0; wa < ${int(kh)}; wa++) {\n` +
    `  for (let wb = 0; wb < ${int(kw)}; wb++) {\n` +
    `    const wv = x[xb + wa * ${int(W)} + wb];\n${body}\n  }\n}`
  );
}

/**
 * Gather for backward kernels: one thread per input element (n,c,h,w); visits every
 * window (i, j) that covers it, with `a`, `b` its offset inside the window and `o` the
 * window's output index. `body` runs once per covering window.
 */
function forCoveringWindows(g: Pool2DInfo, body: string): string {
  const { batch: N, channels: C, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = g;
  const { poolHeight: kh, poolWidth: kw, strideHeight: S0, strideWidth: S1 } = g;
  const DI = Math.ceil(kh / S0);
  const DJ = Math.ceil(kw / S1);
  return (
    unravel('this.thread.x', [N, C, H, W], ['n', 'c', 'h', 'w']) +
    `\nconst i0 = Math.floor((h + 0.5) / ${int(S0)});\n` +
    `const j0 = Math.floor((w + 0.5) / ${int(S1)});\n` +
    `const ob = (n * ${int(C)} + c) * ${int(Ho)};\n` +
    `let s = 0;\n` +
    `for (let di = 0; di < ${int(DI)}; di++) {\n` +
    `  const i = i0 - di;\n` +
    `  const a = h - i * ${int(S0)};\n` +
    `  if (i >= 0 && i < ${int(Ho)} && a < ${int(kh)}) {\n` +
    `    for (let dj = 0; dj < ${int(DJ)}; dj++) {\n` +
    `      const j = j0 - dj;\n` +
    `      const b = w - j * ${int(S1)};\n` +
    `      if (j >= 0 && j < ${int(Wo)} && b < ${int(kw)}) {\n` +
    `        const o = (ob + i) * ${int(Wo)} + j;\n` +
    `        const xb = ((n * ${int(C)} + c) * ${int(H)} + i * ${int(S0)}) * ${int(W)} + j * ${int(S1)};\n` +
    `${body}\n` +
    `      }\n    }\n  }\n}\nreturn s;`
  );
}

const outCount = (g: Pool2DInfo): number => sizeOfShape(g.outShape);
const inCount = (g: Pool2DInfo): number => g.planes * g.inHeight * g.inWidth;

/** First maximum of the window at `xb` (strict >, NaN wins): declares `ba`, `bb`, `bv`. */
function windowArgMax(g: Pool2DInfo): string {
  return (
    `let ba = 0;\nlet bb = 0;\nlet bv = x[xb];\n` +
    forWindow(g, '    if (bv === bv) { if (!(wv === wv) || wv > bv) { ba = wa; bb = wb; bv = wv; } }')
  );
}

export const maxPool = defineKernel<'maxPool', B>({
  kernelName: 'maxPool',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const g = geometry('maxPool', x.shape, attrs);
    const src = `${windowStart(g)}\n${windowArgMax(g)}\nreturn bv;`;
    const out = backend.run(program('maxPool', geoKey(g), describe({ x }, attrs), ['x'], src, outCount(g)), [x], x.dtype);
    return info(out, g.outShape, x.dtype);
  },
});

export const maxPoolBackward = defineKernel<'maxPoolBackward', B>({
  kernelName: 'maxPoolBackward',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, x }, attrs, backend }) => {
    const g = geometry('maxPoolBackward', x.shape, attrs);
    // Indent-free: the window scan re-runs for each covering window.
    const body =
      `let ba = 0;\nlet bb = 0;\nlet bv = x[xb];\n` +
      forWindow(g, 'if (bv === bv) { if (!(wv === wv) || wv > bv) { ba = wa; bb = wb; bv = wv; } }') +
      `\nif (ba === a && bb === b) { s += dy[o]; }`;
    const src = forCoveringWindows(g, body);
    const out = backend.run(program('maxPoolBackward', geoKey(g), describe({ dy, x }, attrs), ['dy', 'x'], src, inCount(g)), [dy, x], dy.dtype);
    return info(out, x.shape, dy.dtype);
  },
});

export const avgPool = defineKernel<'avgPool', B>({
  kernelName: 'avgPool',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const g = geometry('avgPool', x.shape, attrs);
    const src = `${windowStart(g)}\nlet s = 0;\n${forWindow(g, 's += wv;')}\nreturn s / ${int(g.windowSize)};`;
    const out = backend.run(program('avgPool', geoKey(g), describe({ x }, attrs), ['x'], src, outCount(g)), [x], x.dtype);
    return info(out, g.outShape, x.dtype);
  },
});

export const avgPoolBackward = defineKernel<'avgPoolBackward', B>({
  kernelName: 'avgPoolBackward',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy }, attrs, backend }) => {
    const g = geometry('avgPoolBackward', attrs.inputShape, attrs);
    const src = forCoveringWindows(g, `s += dy[o] / ${int(g.windowSize)};`);
    const out = backend.run(program('avgPoolBackward', geoKey(g), describe({ dy }, attrs), ['dy'], src, inCount(g)), [dy], dy.dtype);
    return info(out, attrs.inputShape, dy.dtype);
  },
});

export const l2Pool = defineKernel<'l2Pool', B>({
  kernelName: 'l2Pool',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const g = geometry('l2Pool', x.shape, attrs);
    const src = `${windowStart(g)}\nlet s = 0;\n${forWindow(g, 's += wv * wv;')}\nreturn Math.sqrt(s);`;
    const out = backend.run(program('l2Pool', geoKey(g), describe({ x }, attrs), ['x'], src, outCount(g)), [x], x.dtype);
    return info(out, g.outShape, x.dtype);
  },
});

/** dx += dy · x / y per covering window, nothing where y = 0. */
export const l2PoolBackward = defineKernel<'l2PoolBackward', B>({
  kernelName: 'l2PoolBackward',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, x, y }, attrs, backend }) => {
    const g = geometry('l2PoolBackward', x.shape, attrs);
    const src = forCoveringWindows(g, 'const yv = y[o];\nif (!(yv === 0)) { s += (dy[o] * x[this.thread.x]) / yv; }');
    const out = backend.run(program('l2PoolBackward', geoKey(g), describe({ dy, x, y }, attrs), ['dy', 'x', 'y'], src, inCount(g)), [dy, x, y], dy.dtype);
    return info(out, x.shape, dy.dtype);
  },
});

export const poolKernels: KernelConfig<KernelName, B>[] = [
  maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward,
] as never;
export type { TensorInfo };
