import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

/**
 * Output pixel (i, j) of image n reads column u = a·j + b·i + c, row v = d·j + e·i + f of
 * its input: the bilinear blend of the neighbours inside the image, 0 outside (spec
 * `affineResample`). The four weights and offsets are found once per pixel and reused
 * for every channel.
 */
export const affineResample = defineKernel<'affineResample', B>({
  kernelName: 'affineResample', backendName: 'cpu',
  kernelFunc: ({ inputs: { x, transforms }, backend }) => {
    const xv = backend.values(x), t = backend.values(transforms);
    const [N, C, H, W] = x.shape;
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    const plane = H * W;
    for (let n = 0; n < N; n++) {
      const a = t[n * 6], b = t[n * 6 + 1], c = t[n * 6 + 2], d = t[n * 6 + 3], e = t[n * 6 + 4], f = t[n * 6 + 5];
      const base = n * C * plane;
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const u = a * j + b * i + c;
          const v = d * j + e * i + f;
          const p = base + i * W + j;
          // A NaN coordinate gives NaN, never a silent 0.
          if (u !== u || v !== v) {
            for (let ch = 0; ch < C; ch++) o[p + ch * plane] = Number.NaN;
            continue;
          }
          const u0 = Math.floor(u), v0 = Math.floor(v);
          const al = u - u0, be = v - v0;
          // A neighbour outside the image reads 0: it is skipped (in the reference's order of terms).
          const inU0 = u0 >= 0 && u0 < W, inU1 = u0 + 1 >= 0 && u0 + 1 < W;
          const in00 = v0 >= 0 && v0 < H && inU0, in01 = v0 >= 0 && v0 < H && inU1;
          const in10 = v0 + 1 >= 0 && v0 + 1 < H && inU0, in11 = v0 + 1 >= 0 && v0 + 1 < H && inU1;
          const w00 = (1 - be) * (1 - al), w01 = (1 - be) * al, w10 = be * (1 - al), w11 = be * al;
          const q = base + v0 * W + u0;
          for (let ch = 0; ch < C; ch++) {
            const r = q + ch * plane;
            let s = 0;
            if (in00) s += w00 * xv[r];
            if (in01) s += w01 * xv[r + 1];
            if (in10) s += w10 * xv[r + W];
            if (in11) s += w11 * xv[r + W + 1];
            o[p + ch * plane] = s;
          }
        }
      }
    }
    return out.info;
  },
});
