import { defineKernel, type KernelConfig, type KernelName, type PoolGeometry, type TensorInfo } from '@backprop/tensor';
import { type B, describe, info, int, program, unravel } from './util.js';

interface Geo {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  kh: number; kw: number; S0: number; S1: number;
}

function geometry(inputShape: readonly number[], g: PoolGeometry): Geo {
  const [N, C, H, W] = inputShape;
  const [kh, kw] = g.poolSize;
  const [S0, S1] = g.strides;
  return { N, C, H, W, kh, kw, S0, S1, Ho: Math.floor((H - kh) / S0) + 1, Wo: Math.floor((W - kw) / S1) + 1 };
}

const geoKey = (g: Geo): string => `${g.N},${g.C},${g.H},${g.W}|${g.kh},${g.kw}|${g.S0},${g.S1}`;

/** Statements for one thread per output window: declares `xb` (the window's top-left input index). */
function windowStart(g: Geo): string {
  return (
    unravel('this.thread.x', [g.N, g.C, g.Ho, g.Wo], ['n', 'c', 'i', 'j']) +
    `\nconst xb = ((n * ${int(g.C)} + c) * ${int(g.H)} + i * ${int(g.S0)}) * ${int(g.W)} + j * ${int(g.S1)};`
  );
}

/** Loops over the window at `xb`, with `wv` its value at (wa, wb). */
function forWindow(g: Geo, body: string): string {
  return (
    `for (let wa = 0; wa < ${int(g.kh)}; wa++) {\n` +
    `  for (let wb = 0; wb < ${int(g.kw)}; wb++) {\n` +
    `    const wv = x[xb + wa * ${int(g.W)} + wb];\n${body}\n  }\n}`
  );
}

/**
 * Gather for backward kernels: one thread per input element (n,c,h,w); visits every
 * window (i, j) that covers it, with `a`, `b` its offset inside the window and `o` the
 * window's output index. `body` runs once per covering window.
 */
function forCoveringWindows(g: Geo, body: string): string {
  const DI = Math.ceil(g.kh / g.S0);
  const DJ = Math.ceil(g.kw / g.S1);
  return (
    unravel('this.thread.x', [g.N, g.C, g.H, g.W], ['n', 'c', 'h', 'w']) +
    `\nconst i0 = Math.floor((h + 0.5) / ${int(g.S0)});\n` +
    `const j0 = Math.floor((w + 0.5) / ${int(g.S1)});\n` +
    `const ob = (n * ${int(g.C)} + c) * ${int(g.Ho)};\n` +
    `let s = 0;\n` +
    `for (let di = 0; di < ${int(DI)}; di++) {\n` +
    `  const i = i0 - di;\n` +
    `  const a = h - i * ${int(g.S0)};\n` +
    `  if (i >= 0 && i < ${int(g.Ho)} && a < ${int(g.kh)}) {\n` +
    `    for (let dj = 0; dj < ${int(DJ)}; dj++) {\n` +
    `      const j = j0 - dj;\n` +
    `      const b = w - j * ${int(g.S1)};\n` +
    `      if (j >= 0 && j < ${int(g.Wo)} && b < ${int(g.kw)}) {\n` +
    `        const o = (ob + i) * ${int(g.Wo)} + j;\n` +
    `        const xb = ((n * ${int(g.C)} + c) * ${int(g.H)} + i * ${int(g.S0)}) * ${int(g.W)} + j * ${int(g.S1)};\n` +
    `${body}\n` +
    `      }\n    }\n  }\n}\nreturn s;`
  );
}

const outShape = (g: Geo): number[] => [g.N, g.C, g.Ho, g.Wo];
const outCount = (g: Geo): number => g.N * g.C * g.Ho * g.Wo;
const inCount = (g: Geo): number => g.N * g.C * g.H * g.W;

/** First maximum of the window at `xb` (strict >, NaN wins): declares `ba`, `bb`, `bv`. */
function windowArgMax(g: Geo): string {
  return (
    `let ba = 0;\nlet bb = 0;\nlet bv = x[xb];\n` +
    forWindow(g, '    if (bv === bv) { if (!(wv === wv) || wv > bv) { ba = wa; bb = wb; bv = wv; } }')
  );
}

export const maxPool = defineKernel<'maxPool', B>({
  kernelName: 'maxPool',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const g = geometry(x.shape, attrs);
    const src = `${windowStart(g)}\n${windowArgMax(g)}\nreturn bv;`;
    const out = backend.run(program('maxPool', geoKey(g), describe({ x }, attrs), ['x'], src, outCount(g)), [x], x.dtype);
    return info(out, outShape(g), x.dtype);
  },
});

export const maxPoolBackward = defineKernel<'maxPoolBackward', B>({
  kernelName: 'maxPoolBackward',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, x }, attrs, backend }) => {
    const g = geometry(x.shape, attrs);
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
    const g = geometry(x.shape, attrs);
    const src = `${windowStart(g)}\nlet s = 0;\n${forWindow(g, 's += wv;')}\nreturn s / ${int(g.kh * g.kw)};`;
    const out = backend.run(program('avgPool', geoKey(g), describe({ x }, attrs), ['x'], src, outCount(g)), [x], x.dtype);
    return info(out, outShape(g), x.dtype);
  },
});

export const avgPoolBackward = defineKernel<'avgPoolBackward', B>({
  kernelName: 'avgPoolBackward',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy }, attrs, backend }) => {
    const g = geometry(attrs.inputShape, attrs);
    const src = forCoveringWindows(g, `s += dy[o] / ${int(g.kh * g.kw)};`);
    const out = backend.run(program('avgPoolBackward', geoKey(g), describe({ dy }, attrs), ['dy'], src, inCount(g)), [dy], dy.dtype);
    return info(out, attrs.inputShape, dy.dtype);
  },
});

export const l2Pool = defineKernel<'l2Pool', B>({
  kernelName: 'l2Pool',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const g = geometry(x.shape, attrs);
    const src = `${windowStart(g)}\nlet s = 0;\n${forWindow(g, 's += wv * wv;')}\nreturn Math.sqrt(s);`;
    const out = backend.run(program('l2Pool', geoKey(g), describe({ x }, attrs), ['x'], src, outCount(g)), [x], x.dtype);
    return info(out, outShape(g), x.dtype);
  },
});

/** dx += dy · x / y per covering window, nothing where y = 0. */
export const l2PoolBackward = defineKernel<'l2PoolBackward', B>({
  kernelName: 'l2PoolBackward',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, x, y }, attrs, backend }) => {
    const g = geometry(x.shape, attrs);
    const src = forCoveringWindows(g, 'const yv = y[o];\nif (!(yv === 0)) { s += (dy[o] * x[this.thread.x]) / yv; }');
    const out = backend.run(program('l2PoolBackward', geoKey(g), describe({ dy, x, y }, attrs), ['dy', 'x', 'y'], src, inCount(g)), [dy, x, y], dy.dtype);
    return info(out, x.shape, dy.dtype);
  },
});

export const poolKernels: KernelConfig<KernelName, B>[] = [
  maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward,
] as never;
export type { TensorInfo };
