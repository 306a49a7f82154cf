import { defineKernel, type KernelConfig, type KernelName, sizeOfShape } from '@backprop/tensor';
import { type B, describe, info, int, program, unravel } from './util.js';

/**
 * One thread per output pixel (n, c, i, j): it reads column u = a·j + b·i + c and row
 * v = d·j + e·i + f of image n (its row of `transforms`), blending the neighbours inside
 * the image bilinearly, 0 outside (spec `affineResample`).
 */
export const affineResample = defineKernel<'affineResample', B>({
  kernelName: 'affineResample',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x, transforms }, backend }) => {
    const [N, C, H, W] = x.shape;
    const pixel = (dv: string, du: string, weight: string): string =>
      `if (v0 + ${dv} >= 0 && v0 + ${dv} < ${int(H)} && u0 + ${du} >= 0 && u0 + ${du} < ${int(W)}) { s += ${weight} * x[(pb + v0 + ${dv}) * ${int(W)} + u0 + ${du}]; }`;
    const src = [
      unravel('this.thread.x', [N, C, H, W], ['n', 'ch', 'i', 'j']),
      'const tb = n * 6;',
      'const u = transforms[tb] * j + transforms[tb + 1] * i + transforms[tb + 2];',
      'const v = transforms[tb + 3] * j + transforms[tb + 4] * i + transforms[tb + 5];',
      // A NaN coordinate gives NaN (never a silent 0); `!(a === a)` is the NaN test (see util.ts).
      'if (!(u === u) || !(v === v)) { return u + v; }',
      'const u0 = Math.floor(u);',
      'const v0 = Math.floor(v);',
      'const al = u - u0;',
      'const be = v - v0;',
      `const pb = (n * ${int(C)} + ch) * ${int(H)};`,
      'let s = 0;',
      pixel('0', '0', '(1 - be) * (1 - al)'),
      pixel('0', '1', '(1 - be) * al'),
      pixel('1', '0', 'be * (1 - al)'),
      pixel('1', '1', 'be * al'),
      'return s;',
    ].join('\n');
    const out = backend.run(
      program('affineResample', `${N},${C},${H},${W}`, describe({ x, transforms }), ['x', 'transforms'], src, sizeOfShape(x.shape)),
      [x, transforms],
      x.dtype,
    );
    return info(out, x.shape, x.dtype);
  },
});

export const resampleKernels: KernelConfig<KernelName, B>[] = [affineResample] as never;
