/**
 * Helpers that generate gpu.js kernel source. Kernels are written as plain source
 * text, never as JS functions: gpu.js compiles `fn.toString()`, which minifiers and
 * transpilers (esbuild, terser) rewrite; strings survive any build step unchanged.
 *
 * Conventions of the generated code:
 *  - the output is 1-D; `this.thread.x` is the flat output index;
 *  - shapes are integer literals, so every loop has a literal bound (gpu.js stops
 *    loops bounded by arguments at `loopMaxIterations` without a word);
 *  - float attributes arrive in the parameter vector `p` (so changing a learning rate
 *    does not recompile), integers are literals;
 *  - integer division is `Math.floor((a + 0.5) / d)`, exact in float32 for a < 2^22;
 *  - NaN tests are written `!(v === v)`, never `v !== v`, and `x !== y` as `!(x === y)`:
 *    Chromium's WebGPU on SwiftShader compiles `!=` as an ordered comparison (false
 *    when either side is NaN), while `==` is IEEE there; and transcendental functions
 *    need explicit NaN guards (SwiftShader's exp(NaN) is +Infinity, in WebGL2 too).
 *    The conformance suite's NaN tests catch both, run in Chromium.
 */
import type { FusedActivation, TensorInfo } from '@backprop/tensor';
import type { GpujsBackend, Program } from '../backend.js';

export type B = GpujsBackend;

export const shapeStr = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** A readable list of named input shapes for error messages. */
export function describe(inputs: Record<string, TensorInfo | undefined>, attrs?: unknown): string {
  const parts = Object.entries(inputs)
    .filter(([, t]) => t !== undefined)
    .map(([n, t]) => `${n}${shapeStr((t as TensorInfo).shape)}`);
  if (attrs !== undefined && attrs !== null && Object.keys(attrs as object).length) parts.push(JSON.stringify(attrs));
  return parts.join(' ');
}

/** Integer literal (gpu.js sources must not contain exponent notation). */
export function int(n: number): string {
  if (!Number.isInteger(n)) throw new Error(`backend-gpujs codegen: ${n} is not an integer`);
  return String(n);
}

/**
 * Statements that split the flat index `src` into coordinates over `dims` (row-major),
 * declaring `names[d]` for each dimension. The first dimension is not reduced modulo.
 */
export function unravel(src: string, dims: readonly number[], names: readonly string[], tag = 'u'): string {
  const lines: string[] = [];
  let rest = src;
  for (let d = dims.length - 1; d >= 1; d--) {
    const q = `${tag}q${d}`;
    lines.push(`const ${q} = Math.floor((${rest} + 0.5) / ${int(dims[d])});`);
    lines.push(`const ${names[d]} = ${rest} - ${q} * ${int(dims[d])};`);
    rest = q;
  }
  if (dims.length > 0) lines.push(`const ${names[0]} = ${rest};`);
  return lines.join('\n');
}

/** Source of `return act(s)`; `alpha` is an expression (usually a parameter). */
export function returnActivation(activation: FusedActivation, s: string, alpha: string): string {
  switch (activation) {
    case 'linear':
      return `return ${s};`;
    case 'relu':
      return `if (${s} > 0) { return ${s}; }\nif (!(${s} === ${s})) { return ${s}; }\nreturn 0;`;
    case 'leakyRelu':
      return `if (${s} > 0) { return ${s}; }\nreturn ${alpha} * ${s};`;
    case 'sigmoid':
      return sigmoidReturn(s);
    case 'tanh':
      return tanhReturn(s);
  }
}

/** Stable logistic function (apps/docs/math/activations.md). */
export function sigmoidReturn(x: string): string {
  return `if (${x} >= 0) { return 1 / (1 + Math.exp(-${x})); }\nif (!(${x} === ${x})) { return ${x}; }\nconst sgE = Math.exp(${x});\nreturn sgE / (1 + sgE);`;
}

/** tanh that stays finite for large |x| (GLSL's tanh overflows to NaN). */
export function tanhReturn(x: string): string {
  return (
    `if (!(${x} === ${x})) { return ${x}; }\n` +
    `const thT = Math.exp(-2 * Math.abs(${x}));\n` +
    `const thR = (1 - thT) / (1 + thT);\n` +
    `if (${x} < 0) { return -thR; }\nreturn thR;`
  );
}

/** A program over the flat output index with the given inputs. */
export function program(kernel: string, key: string, detail: string, args: string[], body: string, size: number): Program {
  return { kernel, key, detail, args, body, size };
}

/** TensorInfo for a new storage. */
export function info(dataId: object, shape: readonly number[], dtype: TensorInfo['dtype']): TensorInfo {
  return { dataId, shape: shape.slice(), dtype };
}
