import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { type DataType, type TypedArray } from './dtype.js';
import { BackpropError, RegistryError } from './errors.js';
import {
  KERNEL_NAMES,
  MAX_TENSOR_BYTES,
  SPEC_VERSION,
  Tensor,
  argMax,
  assertTensorShape,
  avgPoolBackward,
  cast,
  conv2d,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  createRandom,
  defineKernel,
  fill,
  matMul,
  max,
  maxElements,
  maxPool,
  mean,
  momentumUpdate,
  oneHot,
  ones,
  type Plugin,
  randomNormal,
  randomUniform,
  Registry,
  sum,
  tensor,
  use,
  zeros,
} from './index.js';
import * as tensorExports from './index.js';

/**
 * Bad input must surface as a BackpropError naming what was wrong, never as a
 * TypeError/RangeError from inside or a silently wrong result. Every kernel of the
 * test backend throws a plain Error, so a check that lets bad input through to a
 * kernel fails these tests instead of passing by accident.
 */

class KernelRan extends Error {}

/** Stores what it is given; counts bytes so allocation tests can see nothing was written. */
class RecordingBackend implements Backend {
  readonly specVersion: number = SPEC_VERSION;
  readonly name = 'rec';
  writes = 0;
  write(values: TypedArray) {
    this.writes++;
    return { values: values.slice() };
  }
  readSync(dataId: object) {
    return (dataId as { values: TypedArray }).values.slice();
  }
  async read(dataId: object) {
    return this.readSync(dataId);
  }
  disposeData() {}
  memory() {
    return { numDataBuffers: 0, numBytes: 0 };
  }
  dispose() {}
}

const recordingPlugin: Plugin = {
  name: 'test-recording',
  install(registry) {
    registry.registerBackend('rec', () => new RecordingBackend());
    for (const kernelName of KERNEL_NAMES) {
      registry.registerKernel(
        defineKernel({
          kernelName,
          backendName: 'rec',
          kernelFunc: () => {
            throw new KernelRan(`kernel ${kernelName} ran`);
          },
        }),
      );
    }
  },
};

function setup(): { registry: Registry; backend: RecordingBackend } {
  const registry = new Registry().use(recordingPlugin);
  return { registry, backend: registry.setBackend('rec') as RecordingBackend };
}

/**
 * A tensor whose storage holds no values: stands in for inputs too large to allocate
 * in a test (a 20000×20000 image is 1.6 GB) so the ops' output checks can be exercised.
 */
function virtualTensor(registry: Registry, shape: number[], dtype: DataType = 'float32'): Tensor {
  const storage = { dataId: {}, backend: registry.backend, backendName: registry.backendName, refCount: 1 };
  return registry.trackTensor(new Tensor(storage, shape, dtype, registry));
}

/** Runs `fn`, requires a BackpropError (not a subclass of TypeError/RangeError) and returns its message. */
function backpropMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof BackpropError)) throw new Error(`expected a BackpropError, got ${String(error)}`);
    return error.message;
  }
  throw new Error('expected a BackpropError, nothing was thrown');
}

describe('plugins and registration refuse what is not a plugin', () => {
  it('use(null), use({}) and a plugin without install name the argument and what a plugin is', () => {
    const registry = new Registry();
    const what = /a plugin is an object \{ name: string, install\(registry\) \}/;
    expect(() => registry.use(null as never)).toThrow(RegistryError);
    expect(backpropMessage(() => registry.use(null as never))).toMatch(/^use: argument 1 is null; /);
    expect(backpropMessage(() => registry.use(null as never))).toMatch(what);
    expect(backpropMessage(() => registry.use(recordingPlugin, {} as never))).toMatch(/^use: argument 2 is an object without a 'name' string; /);
    expect(backpropMessage(() => registry.use({ name: 'p' } as never))).toMatch(/^use: argument 1 \('p'\) has no install function; /);
    expect(backpropMessage(() => registry.use({ name: '', install() {} }))).toMatch(/argument 1 is an object without a 'name' string/);
    expect(backpropMessage(() => registry.use('cpu' as never))).toMatch(/^use: argument 1 is 'cpu'; /);
    // The module-level `use` goes through the same check.
    expect(backpropMessage(() => use(undefined as never))).toMatch(/^use: argument 1 is undefined; /);
    // Nothing was installed by the refused calls.
    expect(registry.plugins()).toEqual([]);
  });

  it('registerBackend, registerKernel and component registration check their arguments', () => {
    const registry = new Registry();
    expect(backpropMessage(() => registry.registerBackend('', () => new RecordingBackend()))).toMatch(/^registerBackend: name must be a non-empty string, got ''/);
    expect(backpropMessage(() => registry.registerBackend('x', null as never))).toMatch(/^registerBackend: factory of backend 'x' must be a function returning a Backend, got null/);
    expect(backpropMessage(() => registry.registerBackend('x', () => new RecordingBackend(), null as never))).toMatch(/^registerBackend: options must be an object, got null/);
    expect(backpropMessage(() => registry.registerBackend('x', () => new RecordingBackend(), { priority: NaN }))).toMatch(/priority must be a finite number, got NaN/);
    expect(backpropMessage(() => registry.registerKernel(null as never))).toMatch(/^registerKernel: config must be an object \{ kernelName, backendName, kernelFunc \}, got null/);
    expect(backpropMessage(() => registry.registerKernel({ kernelName: 'conv3d', backendName: 'x', kernelFunc: () => undefined } as never))).toMatch(
      /^registerKernel: kernelName 'conv3d' is not a kernel of spec v\d+/,
    );
    expect(backpropMessage(() => registry.registerKernel({ kernelName: 'add', backendName: 'x', kernelFunc: 'f' } as never))).toMatch(/kernelFunc of kernel 'add' must be a function, got 'f'/);
    expect(backpropMessage(() => registry.registerKernel({ kernelName: 'add', backendName: 3, kernelFunc: () => undefined } as never))).toMatch(/backendName must be a non-empty string, got 3/);
    expect(backpropMessage(() => registry.layers.register(7 as never, () => ({}) as never))).toMatch(/^register layer: name must be a non-empty string, got 7/);
    expect(backpropMessage(() => registry.layers.register('Dense', {} as never))).toMatch(/^register layer: 'Dense' must be a factory function, got \{\}/);
    expect(backpropMessage(() => registry.losses.register('mse', () => ({}) as never, null as never))).toMatch(/^register loss: options must be an object, got null/);
    expect(registry.backendNames()).toEqual([]);
    expect(registry.layers.names()).toEqual([]);
  });

  it('a backend factory that returns something other than a backend is named', () => {
    const registry = new Registry();
    registry.registerBackend('broken', () => null as never);
    expect(backpropMessage(() => registry.setBackend('broken'))).toMatch(/^setBackend: the factory of backend 'broken' returned null, not a Backend/);
  });
});

describe('allocation limits', () => {
  it('MAX_TENSOR_BYTES is 2 GiB; assertTensorShape accepts the largest tensor and refuses one element more', () => {
    expect(MAX_TENSOR_BYTES).toBe(2 ** 31);
    expect(maxElements('float32')).toBe(2 ** 29);
    expect(maxElements('float64')).toBe(2 ** 28);
    expect(() => assertTensorShape('t', [2 ** 29], 'float32')).not.toThrow();
    expect(() => assertTensorShape('t', [2 ** 14, 2 ** 14, 2], 'int32')).not.toThrow();
    expect(backpropMessage(() => assertTensorShape('t', [2 ** 29 + 1], 'float32'))).toBe(
      't: shape [536870913] has 536870913 elements (2147483652 bytes as float32), over the limit of 2147483648 bytes per tensor (MAX_TENSOR_BYTES; at most 536870912 float32 elements)',
    );
    expect(() => assertTensorShape('t', [2 ** 28], 'float64')).not.toThrow();
    expect(backpropMessage(() => assertTensorShape('t', [2 ** 28 + 1], 'float64'))).toMatch(/over the limit of 2147483648 bytes/);
    // The layer-facing form names what is being checked.
    expect(backpropMessage(() => assertTensorShape('layer 1 (Dense)', [100000, 100000], 'float32', 'kernel shape'))).toMatch(
      /^layer 1 \(Dense\): kernel shape \[100000, 100000\] has 10000000000 elements/,
    );
  });

  it('refuses fractional, negative, NaN, infinite and non-number dimensions, naming the dimension', () => {
    expect(backpropMessage(() => assertTensorShape('t', [2, 1.5]))).toBe('t: shape [2, 1.5]: dimension 1 is 1.5; dimensions must be non-negative integers');
    expect(backpropMessage(() => assertTensorShape('t', [-1]))).toMatch(/dimension 0 is -1/);
    expect(backpropMessage(() => assertTensorShape('t', [NaN, 2]))).toMatch(/dimension 0 is NaN/);
    expect(backpropMessage(() => assertTensorShape('t', [Infinity]))).toMatch(/dimension 0 is Infinity/);
    expect(backpropMessage(() => assertTensorShape('t', ['3' as never]))).toMatch(/dimension 0 is '3'/);
    expect(backpropMessage(() => assertTensorShape('t', null as never))).toBe('t: shape must be an array of non-negative integers, got null');
    // A dimension past the element limit is refused even when another one is 0: a
    // reduction over the empty axis would otherwise produce a tensor that large.
    expect(backpropMessage(() => assertTensorShape('t', [0, 1e10]))).toBe(
      't: shape [0, 10000000000]: dimension 1 is 10000000000, over the limit of 536870912 float32 elements per tensor (MAX_TENSOR_BYTES)',
    );
  });

  it('every creation function checks the shape before allocating anything', () => {
    const { registry, backend } = setup();
    const options = { registry };
    const cases: [string, () => unknown][] = [
      ['zeros', () => zeros([1e10], options)],
      ['ones', () => ones([1e10], options)],
      ['fill', () => fill([1e10], 3, options)],
      ['randomNormal', () => randomNormal([1e10], 0, 1, options)],
      ['randomUniform', () => randomUniform([1e10], 0, 1, options)],
      ['tensor', () => tensor(new Float32Array(0), [1e10], options)],
    ];
    for (const [op, create] of cases) {
      expect(backpropMessage(create)).toMatch(new RegExp(`^${op}: shape \\[10000000000\\] has 10000000000 elements \\(40000000000 bytes as float32\\), over the limit of 2147483648 bytes`));
    }
    expect(backpropMessage(() => zeros([1e5, 1e5], { registry, dtype: 'float64' }))).toMatch(/80000000000 bytes as float64/);
    expect(backpropMessage(() => zeros([2, -3], options))).toMatch(/^zeros: shape \[2, -3\]: dimension 1 is -3/);
    expect(backpropMessage(() => ones([2.5], options))).toMatch(/^ones: shape \[2\.5\]: dimension 0 is 2\.5/);
    expect(backpropMessage(() => randomNormal([NaN], 0, 1, options))).toMatch(/^randomNormal: shape \[NaN\]: dimension 0 is NaN/);
    expect(backpropMessage(() => tensor([1, 2], [2, NaN], options))).toMatch(/^tensor: shape \[2, NaN\]: dimension 1 is NaN/);
    expect(backend.writes).toBe(0);
    // Shapes inside the limit still work.
    expect(zeros([2, 3], options).shape).toEqual([2, 3]);
    expect(zeros([0, 5], options).size).toBe(0);
  });

  it('Registry.makeTensor checks the shape and that the values fill it', () => {
    const { registry, backend } = setup();
    expect(backpropMessage(() => registry.makeTensor(new Float32Array(0), [1e10], 'float32'))).toMatch(/^makeTensor: shape \[10000000000\] has 10000000000 elements/);
    expect(backpropMessage(() => registry.makeTensor(new Float32Array(3), [2, 2], 'float32'))).toBe('makeTensor: shape [2, 2] needs 4 values, got 3');
    expect(backpropMessage(() => registry.makeTensor([1], [1], 'float16' as never))).toMatch(/^makeTensor: dtype must be/);
    expect(backend.writes).toBe(0);
  });

  it('matMul checks the size of its output before the kernel runs', () => {
    const { registry } = setup();
    const a = zeros([100000, 1], { registry });
    const b = zeros([1, 100000], { registry });
    expect(backpropMessage(() => matMul(a, b))).toBe(
      'matMul: output shape [100000, 100000] has 10000000000 elements (40000000000 bytes as float32), over the limit of 2147483648 bytes per tensor (MAX_TENSOR_BYTES; at most 536870912 float32 elements)',
    );
    // Within the limit the op reaches the kernel.
    expect(() => matMul(zeros([2, 1], { registry }), zeros([1, 2], { registry }))).toThrow(KernelRan);
  });

  it('conv2d of a 20000×20000 input with many filters is refused by its output size', () => {
    const { registry } = setup();
    const x = virtualTensor(registry, [1, 1, 20000, 20000]);
    const k = zeros([64, 1, 3, 3], { registry });
    expect(backpropMessage(() => conv2d(x, k, { pad: 1 }))).toMatch(
      /^conv2d: output shape \[1, 64, 20000, 20000\] has 25600000000 elements \(102400000000 bytes as float32\), over the limit/,
    );
    // A real (small) input whose output explodes through padding.
    const small = zeros([1, 1, 4, 4], { registry });
    expect(backpropMessage(() => conv2d(small, k, { pad: 100000 }))).toMatch(/^conv2d: output shape \[1, 64, 200002, 200002\]/);
  });

  it('the backward convolutions and avgPoolBackward check the shapes they are given', () => {
    const { registry } = setup();
    const x = zeros([1, 1, 4, 4], { registry });
    const k = zeros([1, 1, 3, 3], { registry });
    const dy = zeros([1, 1, 2, 2], { registry });
    expect(backpropMessage(() => conv2dBackwardFilter(x, dy, [1, 1, 3.5, 3]))).toMatch(/^conv2dBackwardFilter: filterShape \[1, 1, 3\.5, 3\]: dimension 2 is 3\.5/);
    expect(backpropMessage(() => conv2dBackwardFilter(x, dy, [1e6, 1e6, 1, 1]))).toMatch(/^conv2dBackwardFilter: filterShape \[1000000, 1000000, 1, 1\] has 1000000000000 elements/);
    expect(backpropMessage(() => conv2dBackwardInput(dy, k, [1, 1, NaN, 4]))).toMatch(/^conv2dBackwardInput: inputShape \[1, 1, NaN, 4\]: dimension 2 is NaN/);
    expect(backpropMessage(() => conv2dBackwardInput(dy, k, [1e5, 1, 1e5, 4]))).toMatch(/^conv2dBackwardInput: inputShape \[100000, 1, 100000, 4\] has 40000000000 elements/);
    expect(backpropMessage(() => avgPoolBackward(dy, [1, 1, -4, 4], { poolSize: 2 }))).toMatch(/^avgPoolBackward: inputShape \[1, 1, -4, 4\]: dimension 2 is -4/);
    expect(backpropMessage(() => avgPoolBackward(dy, null as never, { poolSize: 2 }))).toMatch(/^avgPoolBackward: inputShape must be an array of non-negative integers, got null/);
    expect(backpropMessage(() => avgPoolBackward(dy, [1e5, 1e5, 4, 4], { poolSize: 2 }))).toMatch(/^avgPoolBackward: inputShape \[100000, 100000, 4, 4\] has 160000000000 elements/);
  });

  it('oneHot, cast and reductions check outputs that can be larger than their input', () => {
    const { registry } = setup();
    const labels = tensor([0, 1, 2], [3], { registry, dtype: 'int32' });
    expect(backpropMessage(() => oneHot(labels, 1e9))).toMatch(/^oneHot: output shape \[3, 1000000000\] has 3000000000 elements/);
    // float32 → float64 doubles the bytes: 2^29 float32 elements fit, as float64 they do not.
    const big = virtualTensor(registry, [2 ** 29]);
    expect(backpropMessage(() => cast(big, 'float64'))).toMatch(/^cast: output shape \[536870912\] has 536870912 elements \(4294967296 bytes as float64\)/);
    // Summing away an empty axis leaves the other axes: [0, 40000, 40000] → [40000, 40000].
    const empty = zeros([0, 40000, 40000], { registry });
    expect(backpropMessage(() => sum(empty, 0))).toMatch(/^sum: output shape \[40000, 40000\] has 1600000000 elements/);
    // The mean over an empty axis has no value: an error, not a tensor of NaN.
    expect(backpropMessage(() => mean(empty, 0))).toBe('mean: cannot take the mean over an empty axis of shape [0, 40000, 40000]');
    expect(backpropMessage(() => mean(zeros([3, 0], { registry })))).toMatch(/^mean: cannot take the mean over an empty axis/);
  });
});

describe('op options: null, undefined and wrong types are named', () => {
  function tensors() {
    const { registry } = setup();
    return { registry, x: zeros([1, 1, 4, 4], { registry }), k: zeros([1, 1, 3, 3], { registry }) };
  }

  it('conv2d and the backward convolutions', () => {
    const { x, k } = tensors();
    expect(backpropMessage(() => conv2d(x, k, { strides: null as never }))).toBe('conv2d: stride must be a positive integer or a [height, width] pair of them, got null');
    expect(backpropMessage(() => conv2d(x, k, { pad: null as never }))).toBe('conv2d: padding must be a non-negative integer or a [height, width] pair of them, got null');
    expect(backpropMessage(() => conv2d(x, k, { strides: [1] as never }))).toBe('conv2d: stride must be a positive integer or a [height, width] pair of them, got [1]');
    expect(backpropMessage(() => conv2d(x, k, { strides: '2' as never }))).toMatch(/stride must be a positive integer or a \[height, width\] pair of them, got '2'/);
    expect(backpropMessage(() => conv2d(x, k, { strides: [1, null] as never }))).toBe('conv2d: stride must be a positive integer or a [height, width] pair of them, got [1, null]');
    expect(backpropMessage(() => conv2d(x, k, null as never))).toBe('conv2d: options must be an object, got null');
    expect(backpropMessage(() => conv2d(x, k, 3 as never))).toBe('conv2d: options must be an object, got 3');
    expect(backpropMessage(() => conv2d(x, k, { alpha: NaN, activation: 'leakyRelu' }))).toBe('conv2d: alpha must be a finite number, got NaN');
    expect(backpropMessage(() => conv2d(x, k, { alpha: null as never }))).toBe('conv2d: alpha must be a finite number, got null');
    expect(backpropMessage(() => conv2d(x, k, { activation: null as never }))).toBe("conv2d: activation must be 'linear', 'relu', 'sigmoid', 'tanh' or 'leakyRelu', got null");
    expect(backpropMessage(() => conv2d(x, k, { bias: null as never }))).toBe("conv2d: 'bias' must be a Tensor, got null");
    const dy = zeros([1, 1, 2, 2], { registry: x.registry });
    expect(backpropMessage(() => conv2dBackwardFilter(x, dy, [1, 1, 3, 3], null as never))).toBe('conv2dBackwardFilter: options must be an object, got null');
    expect(backpropMessage(() => conv2dBackwardFilter(x, dy, null as never))).toMatch(/^conv2dBackwardFilter: filterShape must be an array/);
    expect(backpropMessage(() => conv2dBackwardInput(dy, k, [1, 1, 4, 4], { strides: null as never }))).toMatch(/^conv2dBackwardInput: stride must be/);
    expect(backpropMessage(() => conv2dBackwardInput(null as never, k, [1, 1, 4, 4]))).toBe("conv2dBackwardInput: 'dy' must be a Tensor, got null");
    // Omitted options still take their defaults and reach the kernel.
    expect(() => conv2d(x, k, { strides: undefined, pad: undefined })).toThrow(KernelRan);
    expect(() => conv2d(x, k, undefined)).toThrow(KernelRan);
  });

  it('matMul', () => {
    const { registry } = tensors();
    const a = zeros([2, 3], { registry });
    const b = zeros([3, 2], { registry });
    expect(backpropMessage(() => matMul(a, b, null as never))).toBe('matMul: options must be an object, got null');
    expect(backpropMessage(() => matMul(a, b, { transposeA: 'yes' as never }))).toBe("matMul: transposeA must be true or false, got 'yes'");
    expect(backpropMessage(() => matMul(a, b, { transposeB: null as never }))).toBe('matMul: transposeB must be true or false, got null');
    expect(backpropMessage(() => matMul(a, b, { alpha: Infinity }))).toBe('matMul: alpha must be a finite number, got Infinity');
    expect(() => matMul(a, b, {})).toThrow(KernelRan);
  });

  it('pooling', () => {
    const { x } = tensors();
    expect(backpropMessage(() => maxPool(x, null as never))).toBe('maxPool: options must be an object with a poolSize, got null');
    expect(backpropMessage(() => maxPool(x, { poolSize: null as never }))).toBe('maxPool: pool size must be a positive integer or a [height, width] pair of them, got null');
    expect(backpropMessage(() => maxPool(x, { poolSize: 2, strides: null as never }))).toBe('maxPool: stride must be a positive integer or a [height, width] pair of them, got null');
    expect(() => maxPool(x, { poolSize: 2 })).toThrow(KernelRan);
  });

  it('reductions: null axes mean every axis (as in TensorFlow.js), other wrong types are named', () => {
    const { x } = tensors();
    expect(backpropMessage(() => sum(x, 'a' as never))).toBe("sum: axes must be an integer or an array of integers, got 'a'");
    expect(backpropMessage(() => max(x, [0, null] as never))).toMatch(/^max: axis null is out of range/);
    expect(backpropMessage(() => sum(x, 0, 'yes' as never))).toBe("sum: keepDims must be true or false, got 'yes'");
    expect(backpropMessage(() => argMax(x, null as never))).toBe('argMax: axis must be an integer, got null');
    expect(() => sum(x, null as never)).toThrow(KernelRan);
  });

  it('optimizer updates', () => {
    const { registry } = tensors();
    const p = zeros([2], { registry });
    expect(backpropMessage(() => momentumUpdate(p, p, p, null as never))).toBe('momentumUpdate: options must be an object, got null');
    expect(backpropMessage(() => momentumUpdate(p, p, p, { learningRate: 0.1, momentum: 0.9, nesterov: 1 as never }))).toBe('momentumUpdate: nesterov must be true or false, got 1');
  });

  it('creation options and random parameters', () => {
    const { registry } = tensors();
    expect(backpropMessage(() => tensor([1], [1], null as never))).toBe('tensor: options must be an object, got null');
    expect(backpropMessage(() => zeros([1], { registry: {} as never }))).toBe('zeros: registry must be a Registry, got {}');
    expect(backpropMessage(() => randomNormal([2], NaN, 1, { registry }))).toBe('randomNormal: mean must be a finite number, got NaN');
    expect(backpropMessage(() => randomNormal([2], 0, Infinity, { registry }))).toBe('randomNormal: stddev must be a finite number, got Infinity');
    expect(backpropMessage(() => randomUniform([2], 0, NaN, { registry }))).toBe('randomUniform: high must be a finite number, got NaN');
    expect(backpropMessage(() => randomNormal([2], 0, 1, { registry, seed: NaN }))).toBe('randomNormal: seed must be a finite number, got NaN');
    expect(backpropMessage(() => randomNormal([2], 0, 1, { registry, dtype: 'float16' as never }))).toMatch(/^randomNormal: dtype must be/);
    expect(backpropMessage(() => createRandom(NaN))).toBe('createRandom: seed must be a finite number, got NaN');
    expect(backpropMessage(() => fill([2], 'a' as never, { registry }))).toBe("fill: value must be a number, got 'a'");
    // NaN is a value like any other (tests of NaN propagation create such tensors).
    expect(Number.isNaN(fill([1], NaN, { registry }).dataSync()[0])).toBe(true);
  });

  it('reshape', () => {
    const { x } = tensors();
    expect(backpropMessage(() => x.reshape(null as never))).toBe('reshape: shape must be an array of integers (one may be -1), got null');
  });
});

describe('the argument checks every package uses (validation.ts)', () => {
  const v = tensorExports;
  it('describeValue: numbers as JavaScript spells them, strings quoted, containers by content, objects by class', () => {
    expect([NaN, -Infinity, 1e308, 0.5].map(v.describeValue)).toEqual(['NaN', '-Infinity', '1e+308', '0.5']);
    expect(v.describeValue('a\nb')).toBe("'a\\nb'");
    expect(v.describeValue([3, NaN])).toBe('[3, NaN]');
    expect(v.describeValue({ className: 'Dense', config: null })).toBe("{ className: 'Dense', config: null }");
    expect(v.describeValue({})).toBe('{}');
    expect(v.describeValue(new Float32Array(2))).toBe('a Float32Array');
    expect(v.describeValue(new Int32Array(2))).toBe('an Int32Array');
    expect(v.describeValue(() => 1)).toBe('a function');
    expect(v.describeValue(zeros([2, 3], { registry: setup().registry }))).toBe('tensor of shape [2, 3]');
    const long = v.describeValue('x'.repeat(500));
    expect(long).toHaveLength(80);
    expect(long.endsWith('…')).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(v.describeValue(cyclic)).toBe('{ self: { self: {…} } }');
  });

  it('integers: a scalar option never goes through the pair parser', () => {
    expect(v.checkPositiveInt('Dense', 'units', 3)).toBe(3);
    expect(backpropMessage(() => v.checkPositiveInt('Dense', 'units', [3, 99]))).toBe('Dense: units must be a positive integer, got [3, 99]');
    expect(backpropMessage(() => v.checkPositiveInt('Dense', 'units', 0, 2 ** 31 - 1))).toBe('Dense: units must be a positive integer ≤ 2147483647, got 0');
    expect(backpropMessage(() => v.checkNonNegativeInt('op', 'n', -1))).toBe('op: n must be a non-negative integer, got -1');
    expect(v.checkIntPair('Conv2D', 'strides', 2, 'positive')).toEqual([2, 2]);
    expect(v.checkIntPair('Conv2D', 'padding', [0, 1], 'non-negative')).toEqual([0, 1]);
    expect(backpropMessage(() => v.checkIntPair('Conv2D', 'kernelSize', [3], 'positive', 9))).toBe(
      'Conv2D: kernelSize must be a positive integer ≤ 9 or a [height, width] pair of them, got [3]',
    );
  });

  it('numbers, booleans, names and dtypes', () => {
    expect(backpropMessage(() => v.checkFiniteNumber('op', 'alpha', NaN))).toBe('op: alpha must be a finite number, got NaN');
    expect(backpropMessage(() => v.checkNumberInRange('adam', 'beta1', 1, { min: 0, max: 1, maxExclusive: true }))).toBe('adam: beta1 must be a number in [0, 1), got 1');
    expect(backpropMessage(() => v.checkNumberInRange('adam', 'epsilon', 0, { min: 0, minExclusive: true }))).toBe('adam: epsilon must be a finite number > 0, got 0');
    expect(v.checkNumberInRange('x', 'v', 0, { min: 0 })).toBe(0);
    expect(v.checkBoolean('x', 'flag', undefined, true)).toBe(true);
    expect(backpropMessage(() => v.checkBoolean('x', 'flag', null, true))).toBe('x: flag must be true or false, got null');
    expect(backpropMessage(() => v.checkOneOf('x', 'mode', 'c', ['a', 'b']))).toBe("x: mode must be 'a' or 'b', got 'c'");
    expect(backpropMessage(() => v.checkDtype('x', 'int8', ['float32', 'float64']))).toBe("x: dtype must be 'float32' or 'float64', got 'int8'");
    expect(v.checkFloatDtype('x', 'float64')).toBe('float64');
    expect(backpropMessage(() => v.checkFloatDtype('x', 'int32'))).toBe("x: dtype must be 'float32' or 'float64', got 'int32'");
    expect(backpropMessage(() => v.checkNonEmptyString('x', 'name', ''))).toBe("x: name must be a non-empty string, got ''");
    expect(v.formatChoices(['a', 'b', 'c'])).toBe("'a', 'b' or 'c'");
  });

  it('options objects: undefined is {}, null and arrays are named, unknown keys list the valid ones', () => {
    expect(v.checkOptions('sgd', undefined)).toEqual({});
    expect(backpropMessage(() => v.checkOptions('sgd', undefined, [], { required: true }))).toBe('sgd: options must be an object, got undefined');
    expect(backpropMessage(() => v.checkOptions('sgd', [1], undefined, { name: 'config' }))).toBe('sgd: config must be an object, got [1]');
    expect(backpropMessage(() => v.checkOptions('sgd', { lr: 1 }, ['learningRate', 'weightDecay']))).toBe(
      "sgd: unknown option 'lr'; valid options: learningRate, weightDecay",
    );
  });

  it('the update ops check their hyperparameters against the table the optimizers use', () => {
    const { registry } = setup();
    const p = zeros([2], { registry });
    expect(v.UPDATE_HYPERPARAMETERS.beta1).toEqual({ min: 0, max: 1, maxExclusive: true });
    expect(backpropMessage(() => v.sgdUpdate(p, p, -1))).toBe('sgdUpdate: learningRate must be a finite number ≥ 0, got -1');
    expect(backpropMessage(() => momentumUpdate(p, p, p, { learningRate: 0.1, momentum: 0.9, lr: 1 } as never))).toBe(
      "momentumUpdate: unknown option 'lr'; valid options: learningRate, weightDecay, momentum, nesterov",
    );
    expect(backpropMessage(() => v.checkUpdateTensors('sgd (parameter w)', p, { grad: zeros([3], { registry }) }))).toBe(
      "sgd (parameter w): 'param' and 'grad' must have the same shape, got [2] and [3]",
    );
  });
});
