import { defineKernel, type KernelConfig, type KernelName, sizeOfShape, type TensorInfo } from '@backprop/tensor';
import { type B, describe, info, program } from './util.js';

/** a ∘ b element-wise; `expr` uses `x` and `y`. */
function binary<K extends 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum'>(kernelName: K, body: string): KernelConfig<K, B> {
  return defineKernel<K, B>({
    kernelName,
    backendName: 'gpujs',
    kernelFunc: (({ inputs: { a, b }, backend }: { inputs: { a: TensorInfo; b: TensorInfo }; backend: B }) => {
      const n = sizeOfShape(a.shape);
      const src = `const x = a[this.thread.x];\nconst y = b[this.thread.x];\n${body}`;
      const out = backend.run(program(kernelName, '', describe({ a, b }), ['a', 'b'], src, n), [a, b], a.dtype);
      return info(out, a.shape, a.dtype);
    }) as never,
  });
}

/** NaN-propagating max/min (GLSL's max/min leave NaN undefined). */
const pick = (op: '>' | '<', l: string, r: string): string =>
  `if (!(${l} === ${l})) { return ${l}; }\nif (!(${r} === ${r})) { return ${r}; }\nif (${l} ${op} ${r}) { return ${l}; }\nreturn ${r};`;

export const add = binary('add', 'return x + y;');
export const sub = binary('sub', 'return x - y;');
export const mul = binary('mul', 'return x * y;');
export const div = binary('div', 'return x / y;');
export const maximum = binary('maximum', pick('>', 'x', 'y'));
export const minimum = binary('minimum', pick('<', 'x', 'y'));

type ScalarName = 'addScalar' | 'mulScalar' | 'maximumScalar' | 'minimumScalar';

/** x ∘ scalar; the scalar is the parameter p[0]. */
function scalarOp<K extends ScalarName>(kernelName: K, body: string): KernelConfig<K, B> {
  return defineKernel<K, B>({
    kernelName,
    backendName: 'gpujs',
    kernelFunc: (({ inputs: { x }, attrs: { scalar }, backend }: { inputs: { x: TensorInfo }; attrs: { scalar: number }; backend: B }) => {
      const src = `const v = x[this.thread.x];\nconst s = p[0];\n${body}`;
      const out = backend.run(program(kernelName, '', describe({ x }), ['x'], src, sizeOfShape(x.shape)), [x], x.dtype, [scalar]);
      return info(out, x.shape, x.dtype);
    }) as never,
  });
}

export const addScalar = scalarOp('addScalar', 'return v + s;');
export const mulScalar = scalarOp('mulScalar', 'return v * s;');
export const maximumScalar = scalarOp('maximumScalar', pick('>', 'v', 's'));
export const minimumScalar = scalarOp('minimumScalar', pick('<', 'v', 's'));

/** x^e. Integer exponents use repeated multiplication (exact sign for negative bases); others Math.pow. */
export const powScalar = defineKernel<'powScalar', B>({
  kernelName: 'powScalar',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs: { exponent }, backend }) => {
    let body: string;
    let key: string;
    if (exponent === 0) {
      body = 'return 1;';
      key = 'zero';
    } else if (Number.isInteger(exponent) && Math.abs(exponent) <= 16) {
      const m = Math.abs(exponent);
      const factors = new Array(m).fill('v').join(' * ');
      body = exponent > 0 ? `return ${factors};` : `return 1 / (${factors});`;
      key = `int${exponent}`;
    } else {
      // Non-integer exponent: negative bases give NaN, as in JS. 0^e: 0 for e > 0, ∞ for e < 0.
      body =
        'const e = p[0];\n' +
        'if (!(v === v)) { return v; }\n' +
        'if (v < 0) { return (v - v) / (v - v); }\n' +
        'if (v === 0) { if (e > 0) { return 0; } return 1 / v; }\n' +
        'return Math.exp(e * Math.log(v));';
      key = 'real';
    }
    const src = `const v = x[this.thread.x];\n${body}`;
    const params = key === 'real' ? [exponent] : undefined;
    const out = backend.run(program('powScalar', key, describe({ x }, { exponent }), ['x'], src, sizeOfShape(x.shape)), [x], x.dtype, params);
    return info(out, x.shape, x.dtype);
  },
});

type UnaryName = 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'square' | 'abs' | 'sign';

function unary<K extends UnaryName>(kernelName: K, body: string): KernelConfig<K, B> {
  return defineKernel<K, B>({
    kernelName,
    backendName: 'gpujs',
    kernelFunc: (({ inputs: { x }, backend }: { inputs: { x: TensorInfo }; backend: B }) => {
      const src = `const v = x[this.thread.x];\n${body}`;
      const out = backend.run(program(kernelName, '', describe({ x }), ['x'], src, sizeOfShape(x.shape)), [x], x.dtype);
      return info(out, x.shape, x.dtype);
    }) as never,
  });
}

export const neg = unary('neg', 'return -v;');
export const exp = unary('exp', 'if (!(v === v)) { return v; }\nreturn Math.exp(v);');
export const log = unary('log', 'if (!(v === v)) { return v; }\nreturn Math.log(v);');
/** log1p via the classic u = 1 + x correction (accurate for small x in float32). */
export const log1p = unary(
  'log1p',
  'const u = 1 + v;\nif (u === 1) { return v; }\nif (!(v === v)) { return v; }\nreturn Math.log(u) * (v / (u - 1));',
);
export const sqrt = unary('sqrt', 'if (!(v === v)) { return v; }\nreturn Math.sqrt(v);');
export const square = unary('square', 'return v * v;');
export const abs = unary('abs', 'if (v < 0) { return -v; }\nreturn v;');
/** sign(0) = 0, sign(NaN) = NaN. */
export const sign = unary('sign', 'if (v > 0) { return 1; }\nif (v < 0) { return -1; }\nreturn v;');

/** Copy into a new buffer in `dtype`; → int32 truncates toward zero (NaN → 0). */
export const cast = defineKernel<'cast', B>({
  kernelName: 'cast',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs: { dtype }, backend }) => {
    const toInt = dtype === 'int32' && x.dtype !== 'int32';
    const src = toInt
      ? 'const v = x[this.thread.x];\nif (!(v === v)) { return 0; }\nif (v < 0) { return -Math.floor(-v); }\nreturn Math.floor(v);'
      : 'return x[this.thread.x];';
    const out = backend.run(program('cast', toInt ? 'int' : 'copy', describe({ x }, { dtype }), ['x'], src, sizeOfShape(x.shape)), [x], dtype);
    return info(out, x.shape, dtype);
  },
});

export const elementwiseKernels: KernelConfig<KernelName, B>[] = [
  add, sub, mul, div, maximum, minimum,
  addScalar, mulScalar, powScalar, maximumScalar, minimumScalar,
  neg, exp, log, log1p, sqrt, square, abs, sign, cast,
] as never;
