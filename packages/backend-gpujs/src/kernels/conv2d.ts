import { computeConv2DInfo, defineKernel, type KernelConfig, type KernelName, type TensorInfo } from '@backprop/tensor';
import { type B, describe, info, int, program, returnActivation, unravel } from './util.js';

/** Y[n,f,i,j] = act(b_f + Σ_{c,u,v} K[f,c,u,v] · X̃[n,c,iS+u,jS+v]); one thread per output element. */
export const conv2d = defineKernel<'conv2d', B>({
  kernelName: 'conv2d',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x, filter, bias }, attrs: { strides, pad, activation, alpha }, backend }) => {
    // The sizes, once per call: @backprop/tensor's geometry (Eq 2.1 with the floor).
    const g = computeConv2DInfo(x.shape, filter.shape, strides, pad, 'conv2d');
    const { batch: N, inChannels: C, inHeight: H, inWidth: W, outChannels: F } = g;
    const { kernelHeight: kh, kernelWidth: kw, outHeight: Ho, outWidth: Wo } = g;
    const inputs: TensorInfo[] = [x, filter];
    const args = ['x', 'k'];
    if (bias) {
      inputs.push(bias);
      args.push('bias');
    }
    const src =
      unravel('this.thread.x', [N, F, Ho, Wo], ['n', 'f', 'i', 'j']) +
      `\nlet s = 0;\n` +
      `for (let c = 0; c < ${int(C)}; c++) {\n` +
      `  const xb = (n * ${int(C)} + c) * ${int(H)};\n` +
      `  const kb = (f * ${int(C)} + c) * ${int(kh)};\n` +
      `  for (let u = 0; u < ${int(kh)}; u++) {\n` +
      `    const r = i * ${int(strides[0])} + u - ${int(pad[0])};\n` +
      `    if (r >= 0 && r < ${int(H)}) {\n` +
      `      for (let v = 0; v < ${int(kw)}; v++) {\n` +
      `        const col = j * ${int(strides[1])} + v - ${int(pad[1])};\n` +
      `        if (col >= 0 && col < ${int(W)}) { s += x[(xb + r) * ${int(W)} + col] * k[(kb + u) * ${int(kw)} + v]; }\n` +
      `      }\n    }\n  }\n}\n` +
      (bias ? 's += bias[f];\n' : '') +
      returnActivation(activation, 's', 'p[0]');
    const key = `${x.shape}|${filter.shape}|${strides}|${pad}|${!!bias}|${activation}`;
    const out = backend.run(
      program('conv2d', key, describe({ x, filter, bias }, { strides, pad, activation }), args, src, N * F * Ho * Wo),
      inputs,
      x.dtype,
      activation === 'leakyRelu' ? [alpha] : undefined,
    );
    return info(out, g.outShape, x.dtype);
  },
});

/** ∂K[f,c,u,v] = Σ_{n,i,j} G[n,f,i,j] · X̃[n,c,iS+u,jS+v]; one thread per filter element. */
export const conv2dBackwardFilter = defineKernel<'conv2dBackwardFilter', B>({
  kernelName: 'conv2dBackwardFilter',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x, dy }, attrs: { strides, pad, filterShape }, backend }) => {
    const g = computeConv2DInfo(x.shape, filterShape, strides, pad, 'conv2dBackwardFilter');
    const { batch: N, inChannels: C, inHeight: H, inWidth: W, outChannels: F } = g;
    const { kernelHeight: kh, kernelWidth: kw, outHeight: Ho, outWidth: Wo } = g;
    const src =
      unravel('this.thread.x', [F, C, kh, kw], ['f', 'c', 'u', 'v']) +
      `\nlet s = 0;\n` +
      `for (let n = 0; n < ${int(N)}; n++) {\n` +
      `  const xb = (n * ${int(C)} + c) * ${int(H)};\n` +
      `  const gb = (n * ${int(F)} + f) * ${int(Ho)};\n` +
      `  for (let i = 0; i < ${int(Ho)}; i++) {\n` +
      `    const r = i * ${int(strides[0])} + u - ${int(pad[0])};\n` +
      `    if (r >= 0 && r < ${int(H)}) {\n` +
      `      for (let j = 0; j < ${int(Wo)}; j++) {\n` +
      `        const col = j * ${int(strides[1])} + v - ${int(pad[1])};\n` +
      `        if (col >= 0 && col < ${int(W)}) { s += dy[(gb + i) * ${int(Wo)} + j] * x[(xb + r) * ${int(W)} + col]; }\n` +
      `      }\n    }\n  }\n}\nreturn s;`;
    const key = `${x.shape}|${dy.shape}|${filterShape}|${strides}|${pad}`;
    const out = backend.run(
      program('conv2dBackwardFilter', key, describe({ x, dy }, { strides, pad, filterShape }), ['x', 'dy'], src, F * C * kh * kw),
      [x, dy],
      x.dtype,
    );
    return info(out, filterShape, x.dtype);
  },
});

/**
 * ∂X[n,c,h,w] = Σ_{f,u,v} G[n,f,i,j] K[f,c,u,v] over iS+u = h+P, jS+v = w+P: gathered per
 * input element, visiting only the ⌈kh/S⌉·⌈kw/S⌉ output positions whose window covers it.
 */
export const conv2dBackwardInput = defineKernel<'conv2dBackwardInput', B>({
  kernelName: 'conv2dBackwardInput',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const g = computeConv2DInfo(inputShape, filter.shape, strides, pad, 'conv2dBackwardInput');
    const { batch: N, inChannels: C, inHeight: H, inWidth: W, outChannels: F } = g;
    const { kernelHeight: kh, kernelWidth: kw, outHeight: Ho, outWidth: Wo } = g;
    const [S0, S1] = strides;
    const DI = Math.ceil(kh / S0);
    const DJ = Math.ceil(kw / S1);
    const src =
      unravel('this.thread.x', [N, C, H, W], ['n', 'c', 'h', 'w']) +
      `\nconst hp = h + ${int(pad[0])};\nconst wp = w + ${int(pad[1])};\n` +
      `const i0 = Math.floor((hp + 0.5) / ${int(S0)});\n` +
      `const j0 = Math.floor((wp + 0.5) / ${int(S1)});\n` +
      `let s = 0;\n` +
      `for (let f = 0; f < ${int(F)}; f++) {\n` +
      `  const gb = (n * ${int(F)} + f) * ${int(Ho)};\n` +
      `  const kb = (f * ${int(C)} + c) * ${int(kh)};\n` +
      `  for (let di = 0; di < ${int(DI)}; di++) {\n` +
      `    const i = i0 - di;\n` +
      `    const u = hp - i * ${int(S0)};\n` +
      `    if (i >= 0 && i < ${int(Ho)} && u < ${int(kh)}) {\n` +
      `      for (let dj = 0; dj < ${int(DJ)}; dj++) {\n` +
      `        const j = j0 - dj;\n` +
      `        const v = wp - j * ${int(S1)};\n` +
      `        if (j >= 0 && j < ${int(Wo)} && v < ${int(kw)}) { s += dy[(gb + i) * ${int(Wo)} + j] * k[(kb + u) * ${int(kw)} + v]; }\n` +
      `      }\n    }\n  }\n}\nreturn s;`;
    const key = `${dy.shape}|${filter.shape}|${inputShape}|${strides}|${pad}`;
    const out = backend.run(
      program('conv2dBackwardInput', key, describe({ dy, filter }, { strides, pad, inputShape }), ['dy', 'k'], src, N * C * H * W),
      [dy, filter],
      dy.dtype,
    );
    return info(out, inputShape, dy.dtype);
  },
});

export const convKernels: KernelConfig<KernelName, B>[] = [conv2d, conv2dBackwardFilter, conv2dBackwardInput] as never;
