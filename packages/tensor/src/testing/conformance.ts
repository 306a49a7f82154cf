/**
 * The backend conformance suite. A backend package runs it from one test file:
 *
 *   describeBackendConformance('backend-cpu float32', cpuBackend, { backendName: 'cpu', dtypes: ['float32'] });
 *
 * It registers vitest `describe`/`it` blocks that check, through the public ops:
 * the worked examples of apps/docs/math/ (W1–W10), random parity of every kernel against the
 * float64 reference in `./reference.ts`, finite-difference gradient checks of every
 * backward kernel (float64 only), bad-input errors, memory leaks per kernel, NaN
 * propagation and the storage half of the backend.
 *
 * Every value is read with `await tensor.data()`, so the one suite serves backends with
 * synchronous readback and those without it (`Backend.canReadSync === false`, e.g. the
 * gpu.js webgpu mode); `dataSync()` is checked where the backend declares it works, and
 * checked to throw a clear error where it does not.
 */
import { describe, expect, it } from 'vitest';
import { bytesPerElement, type DataType, type FloatDataType } from '../dtype.js';
import { DisposedTensorError } from '../errors.js';
import { computeConv2DInfo, computePool2DInfo } from '../geometry.js';
import { KERNEL_NAMES, type FusedActivation, type KernelName, SPEC_VERSION } from '../kernels.js';
import * as ops from '../ops/index.js';
import { createRandom, type Random } from '../random.js';
import { type Plugin, Registry } from '../registry.js';
import { sizeOfShape, type Tensor } from '../tensor.js';
import { checkVjpAsync, expectArraysClose, type GradientCheckOptions } from './assertions.js';
import * as R from './reference.js';
import type { RefTensor } from './reference.js';

export interface ConformanceOptions {
  /** The backend name the plugin registers (passed to `setBackend`). */
  backendName: string;
  /** Dtypes to run the suite in (default ['float32']). Gradient checks need 'float64'. */
  dtypes?: FloatDataType[];
  /** Relative tolerance for float32 runs (default 1e-4, apps/docs/math/index.md (conventions)). */
  rtol?: number;
  /** Absolute tolerance near zero for float32 runs (default 1e-5). */
  atol?: number;
  /** Tolerances for float64 random parity (default 1e-9 / 1e-9; worked examples use |x − x*| < 1e-6). */
  float64Tolerance?: { rtol: number; atol: number };
  /** Kernels the backend does not implement yet: every test that needs one is skipped. */
  skip?: KernelName[];
  /** Seed of the random cases (default 1234). */
  seed?: number;
}

type Mode = 'exact' | 'example' | 'random';
const ACTIVATIONS: FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'leakyRelu'];

/** One fresh registry with the plugin installed and the backend active. */
class Ctx {
  readonly registry = new Registry();
  rng: Random;

  constructor(
    plugin: Plugin,
    readonly backendName: string,
    readonly dtype: FloatDataType,
    private readonly tol: { rtol: number; atol: number; rtol64: number; atol64: number },
    seed: number,
  ) {
    this.registry.use(plugin);
    this.registry.setBackend(backendName);
    this.rng = createRandom(seed);
  }

  /** Restarts the random stream (to replay the same inputs). */
  reseed(seed: number): void {
    this.rng = createRandom(seed);
  }

  /** A tensor on the backend under test (default dtype: the run's dtype). */
  t(values: ArrayLike<number>, shape: readonly number[], dtype: DataType = this.dtype): Tensor {
    return ops.tensor(Array.from(values), shape, { registry: this.registry, dtype });
  }

  /** A tensor and its reference twin holding exactly the same (dtype-rounded) values. */
  pair(values: ArrayLike<number>, shape: readonly number[], dtype: DataType = this.dtype): [Tensor, RefTensor] {
    return [this.t(values, shape, dtype), R.quantize(R.ref(values, shape), dtype)];
  }

  /** Random values uniform in [lo, hi) of the given shape, as a tensor and its reference. */
  rand(shape: readonly number[], lo = -1, hi = 1): [Tensor, RefTensor] {
    return this.pair(uniform(this.rng, sizeOfShape(shape), lo, hi), shape);
  }

  /** The values of a backend result, read asynchronously (`await t.data()`): works on every backend. */
  async read(t: Tensor): Promise<RefTensor> {
    return { values: Float64Array.from(await t.data()), shape: [...t.shape] };
  }

  /** Runs `fn` in a scope, reads the tensor it returns, and frees it. */
  async values(fn: () => Tensor): Promise<Float64Array> {
    const t = this.registry.scope(fn);
    try {
      return Float64Array.from(await t.data());
    } finally {
      t.dispose();
    }
  }

  tolerance(mode: Mode, atolScale = 1): { rtol: number; atol: number } {
    if (mode === 'exact') return { rtol: 0, atol: 0 };
    if (this.dtype === 'float64') {
      return mode === 'example' ? { rtol: 0, atol: 1e-6 } : { rtol: this.tol.rtol64, atol: this.tol.atol64 * atolScale };
    }
    return mode === 'example'
      ? { rtol: this.tol.rtol, atol: Math.max(this.tol.atol, 1e-6) }
      : { rtol: this.tol.rtol, atol: this.tol.atol * atolScale };
  }

  /** Asserts shape, dtype and values of a backend result (read with `await t.data()`). */
  async expect(
    actual: Tensor,
    expected: RefTensor,
    label: string,
    mode: Mode = 'random',
    options: { dtype?: DataType; atolScale?: number } = {},
  ): Promise<void> {
    expect([...actual.shape], `${label}: shape`).toEqual(expected.shape);
    expect(actual.dtype, `${label}: dtype`).toBe(options.dtype ?? this.dtype);
    expectArraysClose(await this.read(actual), expected, { ...this.tolerance(mode, options.atolScale), label });
  }

  dispose(): void {
    this.registry.removeBackend(this.backendName);
  }
}

function uniform(rng: Random, n: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/** Random values in [-1, 1] kept at least `gap` away from 0 (no ReLU kinks). */
function awayFromZero(rng: Random, n: number, gap = 0.05): Float64Array {
  const out = uniform(rng, n, -1, 1);
  for (let i = 0; i < n; i++) if (Math.abs(out[i]) < gap) out[i] += out[i] < 0 ? -gap : gap;
  return out;
}

/** Distinct values in about [-1, 1], pairwise at least 0.5/n apart (no max-pool ties). */
function distinct(rng: Random, n: number): Float64Array {
  const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return Float64Array.from(perm, (p) => (2 * p - n) / n + rng.uniform(0, 0.5 / n));
}

const randInt = (rng: Random, lo: number, hi: number): number => lo + rng.int(hi - lo + 1);
const pick = <T>(rng: Random, items: readonly T[]): T => items[rng.int(items.length)];
const ref = R.ref;

/**
 * Registers the conformance suite for one backend. Each test builds a fresh
 * `Registry`, installs `plugin` and activates `options.backendName`.
 */
export function describeBackendConformance(suiteName: string, plugin: Plugin, options: ConformanceOptions): void {
  const {
    backendName,
    dtypes = ['float32'],
    rtol = 1e-4,
    atol = 1e-5,
    float64Tolerance = { rtol: 1e-9, atol: 1e-9 },
    skip = [],
    seed = 1234,
  } = options;
  const skipped = new Set<KernelName>(skip);
  const tol = { rtol, atol, rtol64: float64Tolerance.rtol, atol64: float64Tolerance.atol };

  describe(suiteName, () => {
    for (const dtype of dtypes) {
      let counter = 0;
      /** `it` that skips itself when it needs a skipped kernel. */
      const test = (name: string, needs: readonly KernelName[], fn: (c: Ctx) => void | Promise<void>): void => {
        const testSeed = seed + 7919 * ++counter;
        const missing = needs.filter((k) => skipped.has(k));
        const title = missing.length ? `${name} (skipped: ${missing.join(', ')})` : name;
        (missing.length ? it.skip : it)(title, async () => {
          const c = new Ctx(plugin, backendName, dtype, tol, testSeed);
          try {
            await fn(c);
          } finally {
            c.dispose();
          }
        });
      };

      describe(dtype, () => {
        describe('backend storage', () => defineStorageTests(test, backendName, skipped));
        describe('worked examples (the worked examples (W1–W10 in apps/docs/math/))', () => defineWorkedExamples(test));
        describe('worked examples of apps/docs/math/augmentation.md', () => defineResampleExamples(test));
        describe('random parity with the reference', () => defineParityTests(test));
        if (dtype === 'float64') {
          describe('gradient checks (central differences, float64)', () => defineGradientChecks(test));
        }
        describe('bad input', () => defineBadInputTests(test, backendName));
        describe('memory: every kernel releases what it allocates', () => defineLeakTests(test));
        describe('memory: outputs do not depend on recycled buffers', () => defineRecycledBufferTests(test));
        describe('NaN propagation', () => defineNaNTests(test));
      });
    }
  });
}

type TestFn = (name: string, needs: readonly KernelName[], fn: (c: Ctx) => void | Promise<void>) => void;

// =====================================================================================
// Storage
// =====================================================================================

function defineStorageTests(test: TestFn, backendName: string, skipped: Set<KernelName>): void {
  test('registers every kernel of the spec and implements the current spec version', [], async (c) => {
    expect(c.registry.backend.specVersion).toBe(SPEC_VERSION);
    const registered = new Set(c.registry.kernelNames(backendName));
    const missing = KERNEL_NAMES.filter((k) => !registered.has(k) && !skipped.has(k));
    expect(missing, `kernels missing from backend '${backendName}'`).toEqual([]);
  });

  test('write/read round-trip every dtype and return copies (readSync too where the backend can read synchronously)', [], async (c) => {
    const values = [0.1, -2.5, 3, 1e-3, -0, 7.75];
    const sync = c.registry.backend.canReadSync !== false;
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const t = c.t(values, [2, 3], dtype);
      expect(t.canReadSync, 'Tensor.canReadSync follows Backend.canReadSync').toBe(sync);
      const Ctor = dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : Int32Array;
      const expected = R.quantize(ref(values, [6]), dtype).values;
      const readers: [string, () => Promise<ArrayLike<number>>][] = [['read', () => t.data()]];
      if (sync) readers.push(['readSync', async () => t.dataSync()]);
      for (const [how, read] of readers) {
        const data = (await read()) as Float32Array;
        expect(data, `${dtype} ${how} type`).toBeInstanceOf(Ctor);
        expectArraysClose(data, expected, { rtol: 0, atol: 0, label: `${dtype} round-trip (${how})` });
        data[0] = 999;
        expect((await read())[0], `${how} must return a copy`).not.toBe(999);
      }
      t.dispose();
    }
  });

  test('a backend without synchronous readback says so: dataSync throws naming data(), data() works', [], async (c) => {
    const t = c.t([1, 2, 3], [3]);
    if (c.registry.backend.canReadSync === false) {
      expect(() => t.dataSync()).toThrow(/await tensor\.data\(\)/);
      expect(() => c.t([5], [1]).scalarSync()).toThrow(/await tensor\.data\(\)/);
      expect(String(t), 'toString does not throw').toMatch(/await tensor\.data\(\)/);
    } else {
      expect(Array.from(t.dataSync())).toEqual([1, 2, 3]);
    }
    expect(await t.array()).toEqual([1, 2, 3]);
    expectArraysClose(await t.data(), [1, 2, 3], { rtol: 0, atol: 0 });
  });

  test('write copies: the source array may be reused after a tensor is made from it', [], async (c) => {
    // The registry hands typed arrays straight to write (training reuses one batch buffer).
    const source = new Float32Array([1, 2, 3, 4]);
    const t = c.registry.makeTensor(source, [4], 'float32');
    source.fill(-1);
    expectArraysClose(await t.data(), [1, 2, 3, 4], { rtol: 0, atol: 0, label: 'tensor after its source changed' });
    t.dispose();
  });

  test('read() resolves to the same values', [], async (c) => {
    const t = c.t([1, 2.5, -3], [3]);
    expectArraysClose(await t.data(), [1, 2.5, -3], { rtol: 0, atol: 0 });
  });

  test('memory() counts buffers and bytes; views share a buffer', [], async (c) => {
    const m0 = c.registry.memory();
    const t = c.t(new Array(10).fill(1), [2, 5]);
    const m1 = c.registry.memory();
    expect(m1.numTensors - m0.numTensors).toBe(1);
    expect(m1.numDataBuffers - m0.numDataBuffers).toBe(1);
    expect(m1.numBytes - m0.numBytes).toBeGreaterThanOrEqual(10 * bytesPerElement(c.dtype));
    const view = t.reshape([10]);
    expect(c.registry.memory().numDataBuffers).toBe(m1.numDataBuffers);
    t.dispose();
    expect(c.registry.memory().numDataBuffers, 'buffer freed while a view is alive').toBe(m1.numDataBuffers);
    view.dispose();
    const m2 = c.registry.memory();
    expect([m2.numTensors, m2.numDataBuffers, m2.numBytes]).toEqual([m0.numTensors, m0.numDataBuffers, m0.numBytes]);
  });
}

// =====================================================================================
// Worked examples W1–W10
// =====================================================================================

const X4 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const K2 = [1, 2, 3, 4];

function defineWorkedExamples(test: TestFn): void {
  test('W1 conv and pool output sizes', ['conv2d', 'maxPool', 'conv2dBackwardInput'], async (c) => {
    const cases: [number, number, number, number, number][] = [
      [4, 2, 1, 0, 3],
      [4, 2, 2, 1, 3],
      [5, 2, 2, 0, 2],
      [4, 3, 2, 1, 2],
    ];
    for (const [h, k, s, p, out] of cases) {
      const y = ops.conv2d(c.t(new Array(h * h).fill(1), [1, 1, h, h]), c.t(new Array(k * k).fill(1), [1, 1, k, k]), {
        strides: s,
        pad: p,
      });
      expect([...y.shape], `conv (H=${h}, k=${k}, S=${s}, P=${p})`).toEqual([1, 1, out, out]);
    }
    expect([...ops.maxPool(c.t(new Array(16).fill(1), [1, 1, 4, 4]), { poolSize: 2, strides: 2 }).shape]).toEqual([1, 1, 2, 2]);
    // (5, 2, 2, 0): the last row and column are never read, so their ∂X is 0.
    const dx = ops.conv2dBackwardInput(c.t([1, 2, 3, 4], [1, 1, 2, 2]), c.t(K2, [1, 1, 2, 2]), [1, 1, 5, 5], { strides: 2 });
    const expected = R.conv2dBackwardInput(
      { dy: ref([1, 2, 3, 4], [1, 1, 2, 2]), filter: ref(K2, [1, 1, 2, 2]) },
      { strides: [2, 2], pad: [0, 0], inputShape: [1, 1, 5, 5] },
    );
    await c.expect(dx, expected, 'W1 ∂X with an unused last row', 'exact');
    const v = await dx.data();
    for (let k = 0; k < 5; k++) expect(v[20 + k] === 0 && v[k * 5 + 4] === 0).toBe(true);
  });

  test('W2 conv forward (cross-correlation, not flipped) and all three gradients', ['conv2d', 'biasGrad', 'conv2dBackwardFilter', 'conv2dBackwardInput'], async (c) => {
    const x = c.t(X4, [1, 1, 4, 4]);
    const k = c.t(K2, [1, 1, 2, 2]);
    const y = ops.conv2d(x, k, { bias: c.t([1], [1]) });
    await c.expect(y, ref([45, 55, 65, 85, 95, 105, 125, 135, 145], [1, 1, 3, 3]), 'W2 forward', 'exact');
    expect(Array.from(await y.data()), 'W2: conv2d flips the kernel (true convolution)').not.toEqual([27, 37, 47, 67, 77, 87, 107, 117, 127]);
    const G = c.t([1, 0, -1, 0, 2, 0, 1, 0, 0], [1, 1, 3, 3]);
    await c.expect(ops.biasGrad(G), ref([3], [1]), 'W2 ∂b', 'exact');
    const dK = ops.conv2dBackwardFilter(x, G, [1, 1, 2, 2]);
    expect(Array.from(await dK.data()), 'W2 ∂K is rot180 of the right answer (E36)').not.toEqual([34, 31, 22, 19]);
    await c.expect(dK, ref([19, 22, 31, 34], [1, 1, 2, 2]), 'W2 ∂K', 'exact');
    await c.expect(
      ops.conv2dBackwardInput(G, k, [1, 1, 4, 4]),
      ref([1, 2, -1, -2, 3, 6, 1, -4, 1, 8, 8, 0, 3, 4, 0, 0], [1, 1, 4, 4]),
      'W2 ∂X',
      'exact',
    );
  });

  test('W3 conv stride 2, padding 1', ['conv2d', 'biasGrad', 'conv2dBackwardFilter', 'conv2dBackwardInput'], async (c) => {
    const x = c.t(X4, [1, 1, 4, 4]);
    const k = c.t(K2, [1, 1, 2, 2]);
    const geo = { strides: 2, pad: 1 };
    await c.expect(ops.conv2d(x, k, { ...geo, bias: c.t([1], [1]) }), ref([5, 19, 13, 47, 95, 45, 27, 45, 17], [1, 1, 3, 3]), 'W3 forward', 'exact');
    const G = c.t([1, -1, 0, 0, 2, 1, 1, 0, -1], [1, 1, 3, 3]);
    await c.expect(ops.biasGrad(G), ref([3], [1]), 'W3 ∂b', 'exact');
    await c.expect(ops.conv2dBackwardFilter(x, G, [1, 1, 2, 2], geo), ref([4, 27, 30, 20], [1, 1, 2, 2]), 'W3 ∂K', 'exact');
    await c.expect(
      ops.conv2dBackwardInput(G, k, [1, 1, 4, 4], geo),
      ref([4, -3, -4, 0, 0, 2, 4, 1, 0, 6, 8, 3, 2, 0, 0, -1], [1, 1, 4, 4]),
      'W3 ∂X',
      'exact',
    );
  });

  const W4X = [1, 3, 2, 1, 4, 2, 0, 1, 5, 6, 1, 2, 7, 8, 3, 3];
  const pool2 = { poolSize: 2, strides: 2 } as const;

  test('W4 max pooling with the tie routed to the first maximum', ['maxPool', 'maxPoolBackward'], async (c) => {
    const x = c.t(W4X, [1, 1, 4, 4]);
    await c.expect(ops.maxPool(x, pool2), ref([4, 2, 8, 3], [1, 1, 2, 2]), 'W4 max forward', 'exact');
    await c.expect(
      ops.maxPoolBackward(c.t([1, 2, 3, 4], [1, 1, 2, 2]), x, pool2),
      ref([0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0], [1, 1, 4, 4]),
      'W4 max backward (tie X32 = X33 = 3 goes to (3,2))',
      'exact',
    );
  });

  test('W4 average pooling', ['avgPool', 'avgPoolBackward'], async (c) => {
    await c.expect(ops.avgPool(c.t(W4X, [1, 1, 4, 4]), pool2), ref([2.5, 1, 6.5, 2.25], [1, 1, 2, 2]), 'W4 avg forward', 'exact');
    await c.expect(
      ops.avgPoolBackward(c.t([1, 2, 3, 4], [1, 1, 2, 2]), [1, 1, 4, 4], pool2),
      ref([0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1], [1, 1, 4, 4]),
      'W4 avg backward',
      'exact',
    );
  });

  test('W4 L2 pooling', ['l2Pool', 'l2PoolBackward'], async (c) => {
    const x = c.t(W4X, [1, 1, 4, 4]);
    const y = ops.l2Pool(x, pool2);
    await c.expect(y, ref([5.477226, 2.44949, 13.190906, 4.795832], [1, 1, 2, 2]), 'W4 L2 forward', 'example');
    const dx = ops.l2PoolBackward(c.t([1, 2, 3, 4], [1, 1, 2, 2]), x, y, pool2);
    const v = await dx.data();
    expectArraysClose([v[2], v[3], v[6], v[7]], [1.632993, 0.816497, 0, 0.816497], { ...c.tolerance('example'), label: 'W4 L2 backward window (0,1)' });
    const yr = R.l2Pool({ x: ref(W4X, [1, 1, 4, 4]) }, { poolSize: [2, 2], strides: [2, 2] });
    await c.expect(dx, R.l2PoolBackward({ dy: ref([1, 2, 3, 4], [1, 1, 2, 2]), x: ref(W4X, [1, 1, 4, 4]), y: yr }, { poolSize: [2, 2], strides: [2, 2] }), 'W4 L2 backward', 'example');
  });

  test('W5 activations and their derivatives through the *Backward kernels', ['sigmoid', 'sigmoidBackward', 'tanh', 'tanhBackward', 'relu', 'reluBackward', 'leakyRelu', 'leakyReluBackward', 'softmax', 'softmaxBackward'], async (c) => {
    const one = (): Tensor => c.t([1], [1]);
    await c.expect(ops.sigmoidBackward(one(), ops.sigmoid(c.t([0], [1]))), ref([0.25], [1]), "σ'(0) = 0.25 (not 0.125, E5)", 'example');
    const s2 = ops.sigmoid(c.t([2], [1]));
    await c.expect(s2, ref([0.880797], [1]), 'σ(2)', 'example');
    await c.expect(ops.sigmoidBackward(one(), s2), ref([0.104994], [1]), "σ'(2)", 'example');
    await c.expect(ops.tanhBackward(one(), ops.tanh(c.t([0.5], [1]))), ref([0.786448], [1]), "tanh'(0.5)", 'example');
    await c.expect(ops.relu(c.t([-2, 0, 3], [3])), ref([0, 0, 3], [3]), 'relu forward', 'exact');
    await c.expect(ops.reluBackward(c.t([1, 1, 1], [3]), c.t([-2, 0, 3], [3])), ref([0, 0, 1], [3]), "ReLU'(0) = 0", 'exact');
    await c.expect(ops.leakyRelu(c.t([-2, 0, 3], [3])), ref([-0.02, 0, 3], [3]), 'leaky forward', 'example');
    await c.expect(ops.leakyReluBackward(c.t([1, 1, 1], [3]), c.t([-2, 0, 3], [3])), ref([0.01, 0.01, 1], [3]), "leaky'(0) = 0.01", 'example');
    await c.expect(ops.leakyReluBackward(c.t([2], [1]), c.t([0], [1]), 0.2), ref([0.4], [1]), 'leaky slope is a parameter', 'example');
    const y = ops.softmax(c.t([1, 2, 3], [1, 3]));
    await c.expect(ops.softmaxBackward(c.t([1, 0, 0], [1, 3]), y), ref([0.081925, -0.022033, -0.059892], [1, 3]), 'softmax VJP at (1,2,3), g = (1,0,0)', 'example');
  });

  test('W6 softmax + CE, stable at x + 1000, and the batch of 2', ['softmaxCrossEntropy', 'softmax', 'logSoftmax', 'oneHot'], async (c) => {
    for (const shift of [0, 1000]) {
      const x = (): Tensor => c.t([1 + shift, 2 + shift, 3 + shift], [1, 3]);
      const tag = shift ? ' (x + 1000)' : '';
      await c.expect(ops.softmax(x()), ref([0.090031, 0.244728, 0.665241], [1, 3]), `p${tag}`, 'example');
      await c.expect(ops.logSoftmax(x()), ref([1 - 3.407606, 2 - 3.407606, 3 - 3.407606], [1, 3]), `log p = x − LSE${tag}`, 'example');
      const labels2 = ops.oneHot(c.t([2], [1], 'int32'), 3, c.dtype);
      const r2 = ops.softmaxCrossEntropy(x(), labels2);
      await c.expect(r2.loss, ref([0.407606], []), `loss, label 2${tag}`, 'example');
      await c.expect(r2.grad, ref([0.090031, 0.244728, -0.334759], [1, 3]), `grad, label 2${tag}`, 'example');
      const r0 = ops.softmaxCrossEntropy(x(), c.t([1, 0, 0], [1, 3]));
      await c.expect(r0.loss, ref([2.407606], []), `loss, label 0${tag}`, 'example');
    }
    const batch = ops.softmaxCrossEntropy(c.t([1, 2, 3, 0, 0, 0], [2, 3]), c.t([0, 0, 1, 1, 0, 0], [2, 3]));
    await c.expect(batch.loss, ref([0.753109], []), 'batch of 2: mean loss', 'example');
    await c.expect(batch.grad, ref([0.045015, 0.122364, -0.16738, -1 / 3, 1 / 6, 1 / 6], [2, 3]), 'batch of 2: gradient', 'example');
  });

  test('W7 sigmoid + BCE from logits, x = 40 gives 40', ['sigmoidCrossEntropy'], async (c) => {
    const a = ops.sigmoidCrossEntropy(c.t([0], [1]), c.t([1], [1]));
    await c.expect(a.loss, ref([0.693147], []), 'x=0, y=1 loss', 'example');
    await c.expect(a.grad, ref([-0.5], [1]), 'x=0, y=1 grad', 'example');
    const b = ops.sigmoidCrossEntropy(c.t([2], [1, 1]), c.t([0], [1, 1]));
    await c.expect(b.loss, ref([2.126928], []), 'x=2, y=0 loss', 'example');
    await c.expect(b.grad, ref([0.880797], [1, 1]), 'x=2, y=0 grad', 'example');
    const m = ops.sigmoidCrossEntropy(c.t([0, 2], [2]), c.t([1, 0], [2]));
    await c.expect(m.loss, ref([1.410038], []), 'mean loss (M = 2)', 'example');
    await c.expect(m.grad, ref([-0.25, 0.440399], [2]), 'mean grad (M = 2)', 'example');
    const big = ops.sigmoidCrossEntropy(c.t([40], [1]), c.t([0], [1]));
    await c.expect(big.loss, ref([40], []), 'x=40, y=0 loss is 40, not ∞', 'example');
    await c.expect(big.grad, ref([1], [1]), 'x=40, y=0 grad', 'example');
  });

  test('W8 losses through the element-wise kernels', ['sub', 'square', 'sum', 'mulScalar', 'abs', 'sign', 'div', 'maximumScalar', 'log1p'], async (c) => {
    const yhat = c.t([1.5, 1, 0.5], [1, 3]);
    const y = c.t([1, 2, 0], [1, 3]);
    const d = ops.sub(yhat, y);
    await c.expect(ops.mulScalar(ops.sum(ops.square(d)), 1 / 3), ref([0.5], []), 'MSE', 'example');
    await c.expect(ops.mulScalar(d, 2 / 3), ref([1 / 3, -2 / 3, 1 / 3], [1, 3]), 'MSE grad', 'example');
    await c.expect(ops.sum(ops.square(d)), ref([1.5], []), 'SSE', 'exact');
    await c.expect(ops.sum(ops.abs(d)), ref([2], []), 'L1', 'exact');
    await c.expect(ops.sign(d), ref([1, -1, 1], [1, 3]), 'L1 grad', 'exact');
    // MAPE with y = (1,2,4), ŷ = (1.5,1,5).
    const y2 = c.t([1, 2, 4], [3]);
    const d2 = ops.sub(c.t([1.5, 1, 5], [3]), y2);
    const denom = ops.maximumScalar(ops.abs(y2), 1e-7);
    await c.expect(ops.mulScalar(ops.sum(ops.div(ops.abs(d2), denom)), 100 / 3), ref([41.666667], []), 'MAPE', 'example');
    await c.expect(ops.mulScalar(ops.div(ops.sign(d2), denom), 100 / 3), ref([33.333333, -16.666667, 8.333333], [3]), 'MAPE grad', 'example');
    // MSLE with y = (0,1,3), ŷ = (1,1,1).
    const l = (t: Tensor): Tensor => ops.log1p(ops.maximumScalar(t, 0));
    const dl = ops.sub(l(c.t([1, 1, 1], [3])), l(c.t([0, 1, 3], [3])));
    await c.expect(ops.mulScalar(ops.sum(ops.square(dl)), 1 / 3), ref([0.320302], []), 'MSLE', 'example');
    await c.expect(ops.mulScalar(dl, 1 / 3), ref([0.231049, 0, -0.231049], [3]), 'MSLE grad (ŷ = 1)', 'example');
  });

  test("W9 one SGD step on [N]'s folded-bias weights", ['matMul', 'relu', 'reluBackward', 'sgdUpdate', 'sub', 'square', 'sum', 'mulScalar', 'neg', 'sigmoid', 'sigmoidCrossEntropy'], async (c) => {
    const sig = c.t([1, 2, 1], [1, 3]);
    const zeta = c.t([1], [1, 1]);
    const run = (w: Tensor): { h: Tensor; s: Tensor; D: Tensor } => {
      const h = ops.matMul(sig, w, { transposeB: true });
      const s = ops.relu(h);
      const D = ops.mulScalar(ops.sum(ops.square(ops.sub(zeta, s))), 0.5);
      return { h, s, D };
    };
    const w = c.t([0.5, -0.25, 0.1], [1, 3]);
    const f0 = run(w);
    await c.expect(f0.h, ref([0.1], [1, 1]), 'W9 h', 'example');
    await c.expect(f0.D, ref([0.405], []), 'W9 D', 'example');
    const dh = ops.reluBackward(ops.sub(f0.s, zeta), f0.h);
    const dw = ops.matMul(dh, sig, { transposeA: true });
    await c.expect(dw, ref([-0.9, -1.8, -0.9], [1, 3]), 'W9 ∂D/∂w', 'example');
    ops.sgdUpdate(w, dw, 0.1);
    await c.expect(w, ref([0.59, -0.07, 0.19], [1, 3]), 'W9 w after one step', 'example');
    const f1 = run(w);
    await c.expect(f1.h, ref([0.64], [1, 1]), 'W9 h after one step', 'example');
    await c.expect(f1.D, ref([0.0648], []), 'W9 D after one step', 'example');
    // The notes' sign (N6): gradient ascent.
    const wBad = c.t([0.5, -0.25, 0.1], [1, 3]);
    ops.sgdUpdate(wBad, ops.neg(dw), 0.1);
    await c.expect(wBad, ref([0.41, -0.43, 0.01], [1, 3]), "W9 w with the notes' sign", 'example');
    const fb = run(wBad);
    await c.expect(fb.h, ref([-0.44], [1, 1]), "W9 h with the notes' sign", 'example');
    await c.expect(fb.s, ref([0], [1, 1]), "W9 s with the notes' sign", 'example');
    await c.expect(fb.D, ref([0.5], []), "W9 D with the notes' sign", 'example');
    // Sigmoid + BCE variant.
    const h = ops.matMul(sig, c.t([0.5, -0.25, 0.1], [1, 3]), { transposeB: true });
    await c.expect(ops.sigmoid(h), ref([0.524979], [1, 1]), 'W9 ŷ', 'example');
    const head = ops.sigmoidCrossEntropy(h, zeta);
    await c.expect(head.loss, ref([0.644397], []), 'W9 BCE loss', 'example');
    await c.expect(ops.matMul(head.grad, sig, { transposeA: true }), ref([-0.475021, -0.950042, -0.475021], [1, 3]), 'W9 BCE ∂w̃', 'example');
  });

  test('W10 dense forward and backward via matMul and biasGrad', ['matMul', 'biasGrad'], async (c) => {
    const x = c.t([1, 2, 0, -1], [2, 2]);
    const w = c.t([0.5, -0.25, 1, 0.5], [2, 2]);
    await c.expect(ops.matMul(x, w, { transposeB: true, bias: c.t([0.1, -0.2], [2]) }), ref([0.1, 1.8, 0.35, -0.7], [2, 2]), 'W10 Z', 'example');
    const G = c.t([1, -1, 0.5, 2], [2, 2]);
    await c.expect(ops.matMul(G, x, { transposeA: true }), ref([1, 1.5, -1, -4], [2, 2]), 'W10 ∂W = GᵀX', 'example');
    await c.expect(ops.biasGrad(G), ref([1.5, 1], [2]), 'W10 ∂b', 'example');
    await c.expect(ops.matMul(G, w), ref([-0.5, -0.75, 2.25, 0.875], [2, 2]), 'W10 ∂X = GW', 'example');
  });
}

// =====================================================================================
// Random parity
// =====================================================================================

const SHAPES: number[][] = [[], [7], [2, 3], [2, 3, 4], [1, 2, 3, 2], [3, 1, 5]];

interface ConvCase {
  N: number; C: number; H: number; W: number; F: number; kh: number; kw: number;
  strides: [number, number]; pad: [number, number];
}

function convCases(rng: Random, count: number): ConvCase[] {
  const cases: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const strides: [number, number] = [randInt(rng, 1, 3), randInt(rng, 1, 3)];
    const pad: [number, number] = [randInt(rng, 0, 2), randInt(rng, 0, 2)];
    const H = pick(rng, [3, 5, 7, 9, 4, 6]);
    const W = pick(rng, [3, 5, 7, 9, 8]);
    const kh = Math.min(randInt(rng, 1, 4), H + 2 * pad[0]);
    const kw = Math.min(randInt(rng, 1, 4), W + 2 * pad[1]);
    cases.push({ N: i === 0 ? 5 : randInt(rng, 1, 3), C: randInt(rng, 1, 4), H, W, F: randInt(rng, 1, 4), kh, kw, strides, pad });
  }
  return cases;
}

const describeConv = (k: ConvCase): string =>
  `N${k.N} C${k.C} ${k.H}×${k.W} F${k.F} k${k.kh}×${k.kw} S${k.strides.join('×')} P${k.pad.join('×')}`;

interface PoolCase { shape: [number, number, number, number]; poolSize: [number, number]; strides: [number, number] }

function poolCases(rng: Random): PoolCase[] {
  const fixed: PoolCase[] = [
    { shape: [2, 3, 6, 6], poolSize: [2, 2], strides: [2, 2] },
    { shape: [1, 2, 7, 7], poolSize: [3, 3], strides: [2, 2] }, // overlapping
    { shape: [2, 1, 5, 7], poolSize: [2, 3], strides: [1, 2] }, // overlapping, non-dividing
    { shape: [3, 2, 9, 5], poolSize: [3, 2], strides: [3, 1] },
  ];
  for (let i = 0; i < 4; i++) {
    const H = randInt(rng, 3, 9);
    const W = randInt(rng, 3, 9);
    fixed.push({
      shape: [randInt(rng, 1, 4), randInt(rng, 1, 4), H, W],
      poolSize: [randInt(rng, 1, Math.min(3, H)), randInt(rng, 1, Math.min(3, W))],
      strides: [randInt(rng, 1, 3), randInt(rng, 1, 3)],
    });
  }
  return fixed;
}

/** The worked examples of apps/docs/math/augmentation.md: the identity, a half-pixel shift, a quarter turn. */
function defineResampleExamples(test: TestFn): void {
  test('affineResample: identity, half-pixel shift with the 0 fill, quarter turn about the centre', ['affineResample'], async (c) => {
    const x = c.t([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]);
    const run = (t: number[]): Tensor => ops.affineResample(x, c.t(t, [1, 6]));
    await c.expect(run([1, 0, 0, 0, 1, 0]), ref([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]), 'identity', 'exact');
    // u = j + 0.5: (0, 0) blends columns 0 and 1; (0, 1) blends column 1 with the 0 outside.
    await c.expect(run([1, 0, 0.5, 0, 1, 0]), ref([1.5, 1, 3.5, 2, 15, 10, 35, 20], [1, 2, 2, 2]), 'half-pixel shift', 'exact');
    // 90° about the centre (0.5, 0.5): u = i, v = 1 − j.
    await c.expect(run([0, 1, 0, -1, 0, 1]), ref([3, 1, 4, 2, 30, 10, 40, 20], [1, 2, 2, 2]), 'quarter turn', 'exact');
    // Entirely outside: 0 everywhere; one map per image of the batch.
    const two = ops.affineResample(c.t([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2]), c.t([1, 0, 5, 0, 1, 0, -1, 0, 1, 0, 1, 0], [2, 6]));
    await c.expect(two, ref([0, 0, 0, 0, 6, 5, 8, 7], [2, 1, 2, 2]), 'per-image maps (outside, horizontal flip)', 'exact');
  });
}

function defineParityTests(test: TestFn): void {
  // ---- element-wise ----
  const binaries = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
  for (const name of binaries) {
    test(`${name}`, [name], async (c) => {
      for (const shape of SHAPES) {
        const n = sizeOfShape(shape);
        const [a, ar] = c.rand(shape, -3, 3);
        const bv = uniform(c.rng, n, -3, 3);
        if (name === 'div') for (let i = 0; i < n; i++) if (Math.abs(bv[i]) < 0.5) bv[i] += bv[i] < 0 ? -0.5 : 0.5;
        if (name === 'maximum' || name === 'minimum') if (n > 1) bv[0] = ar.values[0]; // equal operands
        const [b, br] = c.pair(bv, shape);
        await c.expect(ops[name](a, b), R[name]({ a: ar, b: br }), `${name} ${JSON.stringify(shape)}`);
      }
    });
  }

  const scalarOps = ['addScalar', 'mulScalar', 'maximumScalar', 'minimumScalar'] as const;
  for (const name of scalarOps) {
    test(`${name}`, [name], async (c) => {
      for (const shape of SHAPES) {
        const [x, xr] = c.rand(shape, -3, 3);
        const scalar = pick(c.rng, [0, 1.5, -0.75, 2]);
        await c.expect(ops[name](x, scalar), R[name]({ x: xr }, { scalar }), `${name}(${scalar}) ${JSON.stringify(shape)}`);
      }
    });
  }

  test('powScalar', ['powScalar'], async (c) => {
    const cases: [number, number, number][] = [[2, -3, 3], [3, -2, 2], [0.5, 0, 4], [1.5, 0.1, 3], [-1, 0.5, 3], [0, -2, 2]];
    for (const [exponent, lo, hi] of cases) {
      const [x, xr] = c.rand([3, 4], lo, hi);
      await c.expect(ops.powScalar(x, exponent), R.powScalar({ x: xr }, { exponent }), `powScalar(${exponent})`);
    }
  });

  const unaries: [('neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'square' | 'abs' | 'sign'), number, number][] = [
    ['neg', -3, 3], ['exp', -5, 3], ['log', 0.05, 5], ['log1p', -0.9, 5], ['sqrt', 0, 5], ['square', -3, 3], ['abs', -3, 3], ['sign', -3, 3],
  ];
  for (const [name, lo, hi] of unaries) {
    test(`${name}`, [name], async (c) => {
      for (const shape of SHAPES) {
        const v = uniform(c.rng, sizeOfShape(shape), lo, hi);
        if ((name === 'sign' || name === 'abs' || name === 'sqrt') && v.length > 1) v[1] = 0;
        const [x, xr] = c.pair(v, shape);
        await c.expect(ops[name](x), R[name]({ x: xr }), `${name} ${JSON.stringify(shape)}`);
      }
    });
  }

  test('cast between float32, float64 and int32 (truncation toward zero)', ['cast'], async (c) => {
    const v = [0.1, -2.7, 2.7, 3, -0.5, 1e-3, 123456.789, -7];
    const other: DataType = c.dtype === 'float32' ? 'float64' : 'float32';
    const [x, xr] = c.pair(v, [2, 4]);
    await c.expect(ops.cast(x, other), R.cast({ x: xr }, { dtype: other }), `cast ${c.dtype} → ${other}`, 'exact', { dtype: other });
    await c.expect(ops.cast(x, 'int32'), R.cast({ x: xr }, { dtype: 'int32' }), `cast ${c.dtype} → int32`, 'exact', { dtype: 'int32' });
    await c.expect(ops.cast(x, c.dtype), xr, `cast ${c.dtype} → ${c.dtype} (copy)`, 'exact');
    const [xi, xir] = c.pair([1, -2, 3, 40000], [4], 'int32');
    await c.expect(ops.cast(xi, c.dtype), xir, `cast int32 → ${c.dtype}`, 'exact');
  });

  // ---- activations ----
  test('relu / reluBackward', ['relu', 'reluBackward'], async (c) => {
    for (const shape of SHAPES.slice(1)) {
      const v = uniform(c.rng, sizeOfShape(shape), -2, 2);
      v[0] = 0;
      const [x, xr] = c.pair(v, shape);
      const [dy, dyr] = c.rand(shape);
      await c.expect(ops.relu(x), R.relu({ x: xr }), 'relu');
      await c.expect(ops.reluBackward(dy, x), R.reluBackward({ dy: dyr, x: xr }), 'reluBackward');
    }
  });

  test('leakyRelu / leakyReluBackward', ['leakyRelu', 'leakyReluBackward'], async (c) => {
    for (const alpha of [0.01, 0.2, 0]) {
      const v = uniform(c.rng, 24, -2, 2);
      v[0] = 0;
      const [x, xr] = c.pair(v, [4, 6]);
      const [dy, dyr] = c.rand([4, 6]);
      await c.expect(ops.leakyRelu(x, alpha), R.leakyRelu({ x: xr }, { alpha }), `leakyRelu α=${alpha}`);
      await c.expect(ops.leakyReluBackward(dy, x, alpha), R.leakyReluBackward({ dy: dyr, x: xr }, { alpha }), `leakyReluBackward α=${alpha}`);
    }
  });

  for (const [fwd, bwd] of [['sigmoid', 'sigmoidBackward'], ['tanh', 'tanhBackward']] as const) {
    test(`${fwd} / ${bwd}`, [fwd, bwd], async (c) => {
      const v = uniform(c.rng, 30, -6, 6);
      v.set([0, 50, -50, 700, -700, 20, -20]);
      const [x, xr] = c.pair(v, [5, 6]);
      await c.expect(ops[fwd](x), R[fwd]({ x: xr }), fwd);
      const [y, yr] = c.rand([5, 6], fwd === 'sigmoid' ? 0 : -1, 1);
      const [dy, dyr] = c.rand([5, 6], -2, 2);
      await c.expect(ops[bwd](dy, y), R[bwd]({ dy: dyr, y: yr }), bwd);
    });
  }

  test('softmax / logSoftmax / softmaxBackward', ['softmax', 'logSoftmax', 'softmaxBackward'], async (c) => {
    for (const [n, k, scale] of [[1, 1, 1], [3, 5, 4], [6, 10, 20], [2, 7, 50]] as const) {
      const v = uniform(c.rng, n * k, -scale, scale);
      if (n > 1) for (let j = 0; j < k; j++) v[k + j] += 1000; // a shifted row
      const [x, xr] = c.pair(v, [n, k]);
      await c.expect(ops.softmax(x), R.softmax({ x: xr }), `softmax ${n}×${k}`);
      await c.expect(ops.logSoftmax(x), R.logSoftmax({ x: xr }), `logSoftmax ${n}×${k}`);
      const [y, yr] = c.pair(R.softmax({ x: xr }).values, [n, k]);
      const [dy, dyr] = c.rand([n, k], -2, 2);
      await c.expect(ops.softmaxBackward(dy, y), R.softmaxBackward({ dy: dyr, y: yr }), `softmaxBackward ${n}×${k}`);
    }
  });

  // ---- linear algebra ----
  test('matMul: every transpose combination, with and without bias, every fused activation', ['matMul'], async (c) => {
    for (const transposeA of [false, true])
      for (const transposeB of [false, true])
        for (const withBias of [false, true])
          for (const activation of ACTIVATIONS) {
            const m = randInt(c.rng, 1, 6);
            const k = randInt(c.rng, 1, 7);
            const n = randInt(c.rng, 1, 6);
            const [a, ar] = c.rand(transposeA ? [k, m] : [m, k]);
            const [b, br] = c.rand(transposeB ? [n, k] : [k, n]);
            const [bias, biasr] = withBias ? c.rand([n]) : [undefined, undefined];
            const alpha = activation === 'leakyRelu' ? 0.1 : 0.01;
            const label = `matMul ${m}×${k}×${n} tA=${transposeA} tB=${transposeB} bias=${withBias} ${activation}`;
            await c.expect(
              ops.matMul(a, b, { transposeA, transposeB, bias, activation, alpha }),
              R.matMul({ a: ar, b: br, bias: biasr }, { transposeA, transposeB, activation, alpha }),
              label,
            );
          }
    // Products larger than typical GEMM blocking (k > 256, m > 128).
    for (const transposeA of [false, true])
      for (const transposeB of [false, true]) {
        const [m, k, n] = [133, 261, 9];
        const [a, ar] = c.rand(transposeA ? [k, m] : [m, k]);
        const [b, br] = c.rand(transposeB ? [n, k] : [k, n]);
        const [bias, biasr] = c.rand([n]);
        await c.expect(
          ops.matMul(a, b, { transposeA, transposeB, bias, activation: 'relu' }),
          R.matMul({ a: ar, b: br, bias: biasr }, { transposeA, transposeB, activation: 'relu', alpha: 0 }),
          `matMul ${m}×${k}×${n} tA=${transposeA} tB=${transposeB} bias relu`,
          'random',
          { atolScale: Math.sqrt(k) },
        );
      }
    const [a, ar] = c.rand([17, 33]);
    const [b, br] = c.rand([33, 19]);
    await c.expect(ops.matMul(a, b), R.matMul({ a: ar, b: br }, { transposeA: false, transposeB: false, activation: 'linear', alpha: 0 }), 'matMul 17×33×19', 'random', { atolScale: 4 });
  });

  test('biasAdd / biasGrad on (N, C) and (N, C, H, W)', ['biasAdd', 'biasGrad'], async (c) => {
    for (const shape of [[4, 3], [1, 5], [2, 3, 4, 5], [3, 1, 2, 2]]) {
      const [x, xr] = c.rand(shape);
      const [b, br] = c.rand([shape[1]]);
      await c.expect(ops.biasAdd(x, b), R.biasAdd({ x: xr, bias: br }), `biasAdd ${JSON.stringify(shape)}`);
      await c.expect(ops.biasGrad(x), R.biasGrad({ dy: xr }), `biasGrad ${JSON.stringify(shape)}`);
    }
  });

  // ---- reductions ----
  test('sum / max over random axes with and without keepDims', ['sum', 'max'], async (c) => {
    for (let t = 0; t < 16; t++) {
      const rank = randInt(c.rng, 1, 4);
      const shape = Array.from({ length: rank }, () => randInt(c.rng, 1, 4));
      let axes = shape.map((_, i) => i).filter(() => c.rng.next() < 0.5);
      if (axes.length === 0) axes = [c.rng.int(rank)];
      const keepDims = c.rng.next() < 0.5;
      const [x, xr] = c.rand(shape, -3, 3);
      const label = `${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keepDims=${keepDims}`;
      await c.expect(ops.sum(x, axes, keepDims), R.sum({ x: xr }, { axes, keepDims }), `sum ${label}`);
      await c.expect(ops.max(x, axes, keepDims), R.max({ x: xr }, { axes, keepDims }), `max ${label}`);
    }
    const [x, xr] = c.rand([3, 4]);
    const all = [0, 1];
    await c.expect(ops.sum(x), R.sum({ x: xr }, { axes: all, keepDims: false }), 'sum of everything → shape []');
    await c.expect(ops.max(x, undefined, true), R.max({ x: xr }, { axes: all, keepDims: true }), 'max of everything, keepDims');
    await c.expect(ops.sum(x, -1), R.sum({ x: xr }, { axes: [1], keepDims: false }), 'sum over axis -1');
  });

  test('argMax (first maximum on ties, int32 output)', ['argMax'], async (c) => {
    for (let t = 0; t < 8; t++) {
      const rank = randInt(c.rng, 1, 4);
      const shape = Array.from({ length: rank }, () => randInt(c.rng, 1, 5));
      const axis = c.rng.int(rank);
      const v = Float64Array.from({ length: sizeOfShape(shape) }, () => randInt(c.rng, 0, 3)); // many ties
      const [x, xr] = c.pair(v, shape);
      await c.expect(ops.argMax(x, axis), R.argMax({ x: xr }, { axis }), `argMax ${JSON.stringify(shape)} axis ${axis}`, 'exact', { dtype: 'int32' });
    }
  });

  test('oneHot into float and int32', ['oneHot'], async (c) => {
    for (const dtype of [c.dtype, 'int32'] as const) {
      const depth = randInt(c.rng, 1, 6);
      const labels = Array.from({ length: 7 }, () => c.rng.int(depth));
      const [idx, idxr] = c.pair(labels, [7], 'int32');
      await c.expect(ops.oneHot(idx, depth, dtype), R.oneHot({ indices: idxr }, { depth }), `oneHot depth ${depth} → ${dtype}`, 'exact', { dtype });
    }
  });

  // ---- convolution ----
  test('conv2d with random geometry, bias and fused activations', ['conv2d'], async (c) => {
    const cases = convCases(c.rng, 12);
    for (const [i, k] of cases.entries()) {
      const [x, xr] = c.rand([k.N, k.C, k.H, k.W]);
      const [f, fr] = c.rand([k.F, k.C, k.kh, k.kw]);
      const withBias = i % 2 === 0;
      const [b, br] = withBias ? c.rand([k.F]) : [undefined, undefined];
      const activation = ACTIVATIONS[i % ACTIVATIONS.length];
      const alpha = 0.05;
      await c.expect(
        ops.conv2d(x, f, { strides: k.strides, pad: k.pad, bias: b, activation, alpha }),
        R.conv2d({ x: xr, filter: fr, bias: br }, { strides: k.strides, pad: k.pad, activation, alpha }),
        `conv2d ${describeConv(k)} bias=${withBias} ${activation}`,
      );
    }
  });

  test('conv2d and its backward kernels with many channels and filters (C·kh·kw > 256, F > 128)', ['conv2d', 'conv2dBackwardFilter', 'conv2dBackwardInput'], async (c) => {
    const k: ConvCase = { N: 2, C: 29, H: 5, W: 6, F: 131, kh: 3, kw: 3, strides: [1, 2], pad: [1, 1] };
    const geo = { strides: k.strides, pad: k.pad };
    const [x, xr] = c.rand([k.N, k.C, k.H, k.W]);
    const [f, fr] = c.rand([k.F, k.C, k.kh, k.kw]);
    const [b, br] = c.rand([k.F]);
    const y = ops.conv2d(x, f, { ...geo, bias: b, activation: 'leakyRelu', alpha: 0.1 });
    await c.expect(y, R.conv2d({ x: xr, filter: fr, bias: br }, { ...geo, activation: 'leakyRelu', alpha: 0.1 }), `conv2d ${describeConv(k)}`, 'random', { atolScale: 16 });
    const [dy, dyr] = c.rand([...y.shape]);
    const filterShape: R.Shape4 = [k.F, k.C, k.kh, k.kw];
    const inputShape: R.Shape4 = [k.N, k.C, k.H, k.W];
    await c.expect(ops.conv2dBackwardFilter(x, dy, filterShape, geo), R.conv2dBackwardFilter({ x: xr, dy: dyr }, { ...geo, filterShape }), `conv2dBackwardFilter ${describeConv(k)}`, 'random', { atolScale: 8 });
    await c.expect(ops.conv2dBackwardInput(dy, f, inputShape, geo), R.conv2dBackwardInput({ dy: dyr, filter: fr }, { ...geo, inputShape }), `conv2dBackwardInput ${describeConv(k)}`, 'random', { atolScale: 16 });
  });

  test('conv2dBackwardFilter / conv2dBackwardInput with random geometry', ['conv2dBackwardFilter', 'conv2dBackwardInput'], async (c) => {
    for (const k of convCases(c.rng, 12)) {
      const { outHeight: Ho, outWidth: Wo } = computeConv2DInfo([k.N, k.C, k.H, k.W], [k.F, k.C, k.kh, k.kw], k.strides, k.pad);
      const [x, xr] = c.rand([k.N, k.C, k.H, k.W]);
      const [f, fr] = c.rand([k.F, k.C, k.kh, k.kw]);
      const [dy, dyr] = c.rand([k.N, k.F, Ho, Wo]);
      const geo = { strides: k.strides, pad: k.pad };
      const filterShape: R.Shape4 = [k.F, k.C, k.kh, k.kw];
      const inputShape: R.Shape4 = [k.N, k.C, k.H, k.W];
      await c.expect(
        ops.conv2dBackwardFilter(x, dy, filterShape, geo),
        R.conv2dBackwardFilter({ x: xr, dy: dyr }, { ...geo, filterShape }),
        `conv2dBackwardFilter ${describeConv(k)}`,
        'random',
        { atolScale: Math.sqrt(k.N * Ho * Wo) },
      );
      await c.expect(
        ops.conv2dBackwardInput(dy, f, inputShape, geo),
        R.conv2dBackwardInput({ dy: dyr, filter: fr }, { ...geo, inputShape }),
        `conv2dBackwardInput ${describeConv(k)}`,
      );
    }
  });

  // ---- pooling ----
  test('maxPool / avgPool / l2Pool and their backward kernels, overlapping and non-dividing windows', ['maxPool', 'maxPoolBackward', 'avgPool', 'avgPoolBackward', 'l2Pool', 'l2PoolBackward'], async (c) => {
    for (const p of poolCases(c.rng)) {
      const g = { poolSize: p.poolSize, strides: p.strides };
      const label = `${JSON.stringify(p.shape)} pool ${p.poolSize.join('×')} stride ${p.strides.join('×')}`;
      const [x, xr] = c.rand(p.shape, -2, 2);
      const outShape = computePool2DInfo(p.shape, g.poolSize, g.strides).outShape;
      const [dy, dyr] = c.rand(outShape);
      await c.expect(ops.maxPool(x, g), R.maxPool({ x: xr }, g), `maxPool ${label}`);
      await c.expect(ops.maxPoolBackward(dy, x, g), R.maxPoolBackward({ dy: dyr, x: xr }, g), `maxPoolBackward ${label}`);
      await c.expect(ops.avgPool(x, g), R.avgPool({ x: xr }, g), `avgPool ${label}`);
      await c.expect(ops.avgPoolBackward(dy, p.shape, g), R.avgPoolBackward({ dy: dyr }, { ...g, inputShape: p.shape }), `avgPoolBackward ${label}`);
      const y = ops.l2Pool(x, g);
      await c.expect(y, R.l2Pool({ x: xr }, g), `l2Pool ${label}`);
      const yr = await c.read(y);
      await c.expect(ops.l2PoolBackward(dy, x, y, g), R.l2PoolBackward({ dy: dyr, x: xr, y: yr }, g), `l2PoolBackward ${label}`);
    }
    // Ties (integers) with overlapping windows: each window routes to its first maximum.
    const v = Float64Array.from({ length: 2 * 7 * 7 }, () => randInt(c.rng, 0, 2));
    const [x, xr] = c.pair(v, [1, 2, 7, 7]);
    const g = { poolSize: [3, 3] as [number, number], strides: [2, 1] as [number, number] };
    const [dy, dyr] = c.rand(computePool2DInfo([1, 2, 7, 7], g.poolSize, g.strides).outShape);
    await c.expect(ops.maxPoolBackward(dy, x, g), R.maxPoolBackward({ dy: dyr, x: xr }, g), 'maxPoolBackward with ties, overlapping');
    // An all-zero L2 window has gradient 0.
    const [z, zr] = c.pair([0, 0, 0, 0, 1, 2, 0, 0], [1, 1, 2, 4]);
    const g2 = { poolSize: [2, 2] as [number, number], strides: [2, 2] as [number, number] };
    const zy = ops.l2Pool(z, g2);
    const [zdy, zdyr] = c.pair([3, 4], [1, 1, 1, 2]);
    await c.expect(ops.l2PoolBackward(zdy, z, zy, g2), R.l2PoolBackward({ dy: zdyr, x: zr, y: await c.read(zy) }, g2), 'l2PoolBackward with y = 0');
  });

  // ---- resampling ----
  test('affineResample with random maps (rotation, zoom, shear, shifts past the border)', ['affineResample'], async (c) => {
    for (const shape of [[3, 2, 5, 7], [2, 1, 28, 28], [1, 3, 1, 4]] as [number, number, number, number][]) {
      const [x, xr] = c.rand(shape, -2, 2);
      const maps: number[] = [];
      for (let n = 0; n < shape[0]; n++) {
        maps.push(c.rng.uniform(0.6, 1.4), c.rng.uniform(-0.5, 0.5), c.rng.uniform(-3, 3), c.rng.uniform(-0.5, 0.5), c.rng.uniform(0.6, 1.4), c.rng.uniform(-3, 3));
      }
      const [t, tr] = c.pair(maps, [shape[0], 6]);
      await c.expect(ops.affineResample(x, t), R.affineResample({ x: xr, transforms: tr }), `affineResample ${JSON.stringify(shape)}`);
    }
  });

  // ---- heads ----
  test('softmaxCrossEntropy with one-hot, soft and unnormalised labels', ['softmaxCrossEntropy'], async (c) => {
    for (const [n, k, kind] of [[1, 2, 'onehot'], [4, 5, 'onehot'], [6, 3, 'soft'], [3, 7, 'unnormalised'], [5, 10, 'onehot']] as const) {
      const [x, xr] = c.rand([n, k], -20, 20);
      const labels = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        if (kind === 'onehot') labels[i * k + c.rng.int(k)] = 1;
        else {
          let s = 0;
          for (let j = 0; j < k; j++) s += labels[i * k + j] = c.rng.next();
          if (kind === 'soft') for (let j = 0; j < k; j++) labels[i * k + j] /= s;
        }
      }
      const [y, yr] = c.pair(labels, [n, k]);
      const [loss, grad] = R.softmaxCrossEntropy({ logits: xr, labels: yr });
      const out = ops.softmaxCrossEntropy(x, y);
      await c.expect(out.loss, loss, `softmaxCrossEntropy loss ${n}×${k} ${kind}`);
      await c.expect(out.grad, grad, `softmaxCrossEntropy grad ${n}×${k} ${kind}`);
    }
  });

  test('sigmoidCrossEntropy on several shapes, large logits', ['sigmoidCrossEntropy'], async (c) => {
    for (const shape of [[1], [5], [3, 4], [2, 3, 2, 2]]) {
      const v = uniform(c.rng, sizeOfShape(shape), -8, 8);
      v[0] = shape.length > 1 ? 60 : -60;
      const [x, xr] = c.pair(v, shape);
      const [y, yr] = c.rand(shape, 0, 1);
      const [loss, grad] = R.sigmoidCrossEntropy({ logits: xr, labels: yr });
      const out = ops.sigmoidCrossEntropy(x, y);
      await c.expect(out.loss, loss, `sigmoidCrossEntropy loss ${JSON.stringify(shape)}`);
      await c.expect(out.grad, grad, `sigmoidCrossEntropy grad ${JSON.stringify(shape)}`);
    }
  });

  // ---- optimizer updates ----
  /** Runs `steps` in-place updates, comparing the param and every state buffer after each. */
  const stepwise = async (
    c: Ctx,
    name: string,
    stateNames: string[],
    update: (param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number) => void,
    reference: (param: RefTensor, grad: RefTensor, state: Record<string, RefTensor>, step: number) => Record<string, RefTensor>,
  ): Promise<void> => {
    const shape = [3, 5];
    const [param] = c.rand(shape, -2, 2);
    const state: Record<string, Tensor> = {};
    for (const s of stateNames) state[s] = c.t(new Float64Array(15), shape);
    for (let step = 1; step <= 4; step++) {
      const [grad, gradr] = c.rand(shape, -1, 1);
      const before = await c.read(param);
      const stateBefore: Record<string, RefTensor> = {};
      for (const s of stateNames) stateBefore[s] = await c.read(state[s]);
      update(param, grad, state, step);
      const expected = reference(before, gradr, stateBefore, step);
      await c.expect(param, expected.param, `${name} step ${step}: param`);
      for (const s of stateNames) await c.expect(state[s], expected[s], `${name} step ${step}: ${s}`);
      await c.expect(grad, gradr, `${name} step ${step}: grad must not change`, 'exact');
    }
  };

  test('sgdUpdate with and without weight decay', ['sgdUpdate'], async (c) => {
    for (const weightDecay of [0, 0.1]) {
      await stepwise(c, `sgd wd=${weightDecay}`, [],
        (p, g) => ops.sgdUpdate(p, g, 0.05, weightDecay),
        (p, g) => R.sgdUpdate({ param: p, grad: g }, { learningRate: 0.05, weightDecay }));
    }
  });

  test('momentumUpdate: classic and Nesterov, with weight decay', ['momentumUpdate'], async (c) => {
    for (const nesterov of [false, true])
      for (const weightDecay of [0, 0.01]) {
        const attrs = { learningRate: 0.1, momentum: 0.9, nesterov, weightDecay };
        await stepwise(c, `momentum nesterov=${nesterov} wd=${weightDecay}`, ['velocity'],
          (p, g, s) => ops.momentumUpdate(p, g, s.velocity, attrs),
          (p, g, s) => R.momentumUpdate({ param: p, grad: g, velocity: s.velocity }, attrs));
      }
  });

  test('adamUpdate with bias correction over several steps, with weight decay', ['adamUpdate'], async (c) => {
    for (const weightDecay of [0, 0.01]) {
      const base = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay };
      await stepwise(c, `adam wd=${weightDecay}`, ['m', 'v'],
        (p, g, s, step) => ops.adamUpdate(p, g, s.m, s.v, { ...base, step }),
        (p, g, s, step) => R.adamUpdate({ param: p, grad: g, m: s.m, v: s.v }, { ...base, step }));
    }
  });

  test('rmspropUpdate with and without weight decay', ['rmspropUpdate'], async (c) => {
    for (const weightDecay of [0, 0.05]) {
      const attrs = { learningRate: 0.01, rho: 0.9, epsilon: 1e-7, weightDecay };
      await stepwise(c, `rmsprop wd=${weightDecay}`, ['meanSquare'],
        (p, g, s) => ops.rmspropUpdate(p, g, s.meanSquare, attrs),
        (p, g, s) => R.rmspropUpdate({ param: p, grad: g, meanSquare: s.meanSquare }, attrs));
    }
  });

  test('kernels do not modify their inputs', ['conv2d', 'conv2dBackwardInput', 'maxPoolBackward', 'softmaxCrossEntropy', 'matMul'], async (c) => {
    const [x, xr] = c.rand([2, 2, 5, 5]);
    const [f, fr] = c.rand([3, 2, 3, 3]);
    const y = ops.conv2d(x, f, { pad: 1, activation: 'relu' });
    ops.conv2dBackwardInput(y, f, [2, 2, 5, 5], { pad: 1 });
    ops.maxPoolBackward(c.rand([2, 2, 2, 2])[0], x, { poolSize: 2 });
    const [l, lr] = c.rand([4, 3]);
    const [t, tr] = c.rand([4, 3], 0, 1);
    ops.softmaxCrossEntropy(l, t);
    ops.matMul(l, t, { transposeB: true });
    for (const [tensor, r, name] of [[x, xr, 'x'], [f, fr, 'filter'], [l, lr, 'logits'], [t, tr, 'labels']] as const) {
      await c.expect(tensor, r, `${name} unchanged`, 'exact');
    }
  });
}

// =====================================================================================
// Gradient checks (float64)
// =====================================================================================

function defineGradientChecks(test: TestFn): void {
  const opts = (label: string): GradientCheckOptions => ({ label, h: 1e-6, tol: 1e-6 });

  /** Forward through the backend: runs `fn` on a fresh tensor inside a scope and reads the result (`await data()`). */
  const forward = (c: Ctx, shape: readonly number[], fn: (t: Tensor) => Tensor) =>
    (v: Float64Array): Promise<Float64Array> =>
      c.values(() => fn(c.t(v, shape)));

  const elementwise = [
    ['reluBackward', 'relu'],
    ['leakyReluBackward', 'leakyRelu'],
    ['sigmoidBackward', 'sigmoid'],
    ['tanhBackward', 'tanh'],
  ] as const;
  for (const [bwd, fwd] of elementwise) {
    test(`${bwd} against central differences of ${fwd}`, [bwd, fwd], async (c) => {
      const shape = [3, 7];
      const x = fwd === 'relu' || fwd === 'leakyRelu' ? awayFromZero(c.rng, 21) : uniform(c.rng, 21, -3, 3);
      const G = uniform(c.rng, 21, -1, 1);
      const xt = c.t(x, shape);
      const Gt = c.t(G, shape);
      let analytic: Tensor;
      if (bwd === 'reluBackward') analytic = ops.reluBackward(Gt, xt);
      else if (bwd === 'leakyReluBackward') analytic = ops.leakyReluBackward(Gt, xt, 0.1);
      else if (bwd === 'sigmoidBackward') analytic = ops.sigmoidBackward(Gt, ops.sigmoid(xt));
      else analytic = ops.tanhBackward(Gt, ops.tanh(xt));
      const f =
        fwd === 'leakyRelu' ? forward(c, shape, (t) => ops.leakyRelu(t, 0.1)) : forward(c, shape, (t) => ops[fwd](t));
      await checkVjpAsync(f, x, G, await analytic.data(), opts(bwd));
    });
  }

  test('softmaxBackward against central differences of softmax', ['softmax', 'softmaxBackward'], async (c) => {
    const shape = [3, 5];
    const x = uniform(c.rng, 15, -3, 3);
    const G = uniform(c.rng, 15, -1, 1);
    const analytic = ops.softmaxBackward(c.t(G, shape), ops.softmax(c.t(x, shape)));
    await checkVjpAsync(forward(c, shape, ops.softmax), x, G, await analytic.data(), opts('softmaxBackward'));
  });

  const geometries: { name: string; x: R.Shape4; k: R.Shape4; strides: [number, number]; pad: [number, number] }[] = [
    { name: 'S1 P0', x: [2, 2, 5, 5], k: [3, 2, 3, 3], strides: [1, 1], pad: [0, 0] },
    { name: 'S2 P1 (non-dividing)', x: [2, 3, 6, 5], k: [2, 3, 3, 2], strides: [2, 2], pad: [1, 1] },
    { name: 'S3×2 P2×0', x: [1, 2, 7, 6], k: [2, 2, 2, 3], strides: [3, 2], pad: [2, 0] },
  ];
  for (const geo of geometries) {
    test(`conv2dBackwardFilter / conv2dBackwardInput / biasGrad, ${geo.name}`, ['conv2d', 'conv2dBackwardFilter', 'conv2dBackwardInput', 'biasGrad'], async (c) => {
      const g = { strides: geo.strides, pad: geo.pad };
      const x = uniform(c.rng, sizeOfShape(geo.x), -1, 1);
      const k = uniform(c.rng, sizeOfShape(geo.k), -1, 1);
      const b = uniform(c.rng, geo.k[0], -1, 1);
      const xt = c.t(x, geo.x);
      const kt = c.t(k, geo.k);
      const y = ops.conv2d(xt, kt, { ...g, bias: c.t(b, [geo.k[0]]) });
      const G = uniform(c.rng, y.size, -1, 1);
      const Gt = c.t(G, y.shape);
      const dK = await ops.conv2dBackwardFilter(xt, Gt, geo.k, g).data();
      const dX = await ops.conv2dBackwardInput(Gt, kt, geo.x, g).data();
      const db = await ops.biasGrad(Gt).data();
      await checkVjpAsync(forward(c, geo.k, (kk) => ops.conv2d(c.t(x, geo.x), kk, g)), k, G, dK, opts(`∂K ${geo.name}`));
      await checkVjpAsync(forward(c, geo.x, (xx) => ops.conv2d(xx, c.t(k, geo.k), g)), x, G, dX, opts(`∂X ${geo.name}`));
      await checkVjpAsync(forward(c, [geo.k[0]], (bb) => ops.conv2d(c.t(x, geo.x), c.t(k, geo.k), { ...g, bias: bb })), b, G, db, opts(`∂b ${geo.name}`));
    });
  }

  const pools = [
    { shape: [2, 2, 6, 6] as R.Shape4, poolSize: [2, 2] as [number, number], strides: [2, 2] as [number, number] },
    { shape: [1, 2, 7, 6] as R.Shape4, poolSize: [3, 2] as [number, number], strides: [2, 1] as [number, number] },
  ];
  for (const p of pools) {
    const g = { poolSize: p.poolSize, strides: p.strides };
    const tag = `pool ${p.poolSize.join('×')} stride ${p.strides.join('×')}`;
    test(`maxPoolBackward against central differences of maxPool, ${tag}`, ['maxPool', 'maxPoolBackward'], async (c) => {
      const x = distinct(c.rng, sizeOfShape(p.shape));
      const outShape = computePool2DInfo(p.shape, g.poolSize, g.strides).outShape;
      const G = uniform(c.rng, sizeOfShape(outShape), -1, 1);
      const dx = await ops.maxPoolBackward(c.t(G, outShape), c.t(x, p.shape), g).data();
      await checkVjpAsync(forward(c, p.shape, (t) => ops.maxPool(t, g)), x, G, dx, opts(`maxPoolBackward ${tag}`));
    });
    test(`avgPoolBackward against central differences of avgPool, ${tag}`, ['avgPool', 'avgPoolBackward'], async (c) => {
      const x = uniform(c.rng, sizeOfShape(p.shape), -1, 1);
      const outShape = computePool2DInfo(p.shape, g.poolSize, g.strides).outShape;
      const G = uniform(c.rng, sizeOfShape(outShape), -1, 1);
      const dx = await ops.avgPoolBackward(c.t(G, outShape), p.shape, g).data();
      await checkVjpAsync(forward(c, p.shape, (t) => ops.avgPool(t, g)), x, G, dx, opts(`avgPoolBackward ${tag}`));
    });
    test(`l2PoolBackward against central differences of l2Pool, ${tag}`, ['l2Pool', 'l2PoolBackward'], async (c) => {
      const x = uniform(c.rng, sizeOfShape(p.shape), -1, 1);
      const outShape = computePool2DInfo(p.shape, g.poolSize, g.strides).outShape;
      const G = uniform(c.rng, sizeOfShape(outShape), -1, 1);
      const xt = c.t(x, p.shape);
      const dx = await ops.l2PoolBackward(c.t(G, outShape), xt, ops.l2Pool(xt, g), g).data();
      await checkVjpAsync(forward(c, p.shape, (t) => ops.l2Pool(t, g)), x, G, dx, opts(`l2PoolBackward ${tag}`));
    });
  }

  test('softmaxCrossEntropy gradient against central differences of its loss', ['softmaxCrossEntropy'], async (c) => {
    for (const normalised of [true, false]) {
      const shape = [4, 5];
      const x = uniform(c.rng, 20, -3, 3);
      const y = uniform(c.rng, 20, 0, 1);
      if (normalised) for (let i = 0; i < 4; i++) {
        let s = 0;
        for (let j = 0; j < 5; j++) s += y[i * 5 + j];
        for (let j = 0; j < 5; j++) y[i * 5 + j] /= s;
      }
      const yt = c.t(y, shape);
      const grad = await ops.softmaxCrossEntropy(c.t(x, shape), yt).grad.data();
      const loss = forward(c, shape, (t) => ops.softmaxCrossEntropy(t, yt).loss);
      await checkVjpAsync(loss, x, [1], grad, opts(`softmaxCrossEntropy (rows sum to 1: ${normalised})`));
    }
  });

  test('sigmoidCrossEntropy gradient against central differences of its loss', ['sigmoidCrossEntropy'], async (c) => {
    const shape = [3, 4];
    const x = uniform(c.rng, 12, -5, 5);
    const yt = c.t(uniform(c.rng, 12, 0, 1), shape);
    const grad = await ops.sigmoidCrossEntropy(c.t(x, shape), yt).grad.data();
    await checkVjpAsync(forward(c, shape, (t) => ops.sigmoidCrossEntropy(t, yt).loss), x, [1], grad, opts('sigmoidCrossEntropy'));
  });

  test('dense gradients via matMul and biasGrad', ['matMul', 'biasGrad'], async (c) => {
    const [N, Din, Dout] = [4, 5, 3];
    const x = uniform(c.rng, N * Din, -1, 1);
    const w = uniform(c.rng, Dout * Din, -1, 1);
    const b = uniform(c.rng, Dout, -1, 1);
    const G = uniform(c.rng, N * Dout, -1, 1);
    const Gt = c.t(G, [N, Dout]);
    const xt = c.t(x, [N, Din]);
    const wt = c.t(w, [Dout, Din]);
    const dense = (xx: Tensor, ww: Tensor, bb: Tensor): Tensor => ops.matMul(xx, ww, { transposeB: true, bias: bb });
    await checkVjpAsync(forward(c, [N, Din], (t) => dense(t, c.t(w, [Dout, Din]), c.t(b, [Dout]))), x, G, await ops.matMul(Gt, wt).data(), opts('dense ∂X = GW'));
    await checkVjpAsync(forward(c, [Dout, Din], (t) => dense(c.t(x, [N, Din]), t, c.t(b, [Dout]))), w, G, await ops.matMul(Gt, xt, { transposeA: true }).data(), opts('dense ∂W = GᵀX'));
    await checkVjpAsync(forward(c, [Dout], (t) => dense(c.t(x, [N, Din]), c.t(w, [Dout, Din]), t)), b, G, await ops.biasGrad(Gt).data(), opts('dense ∂b'));
  });

  test('conv → ReLU → maxPool → dense → sigmoid + BCE chain (apps/docs/math/backprop.md)', ['conv2d', 'reluBackward', 'maxPool', 'maxPoolBackward', 'matMul', 'sigmoidCrossEntropy', 'conv2dBackwardFilter', 'biasGrad'], async (c) => {
    const xs: R.Shape4 = [2, 1, 6, 6];
    const ks: R.Shape4 = [2, 1, 3, 3];
    const x = uniform(c.rng, sizeOfShape(xs), -1, 1);
    const k = uniform(c.rng, sizeOfShape(ks), -1, 1);
    const w = uniform(c.rng, 1 * 8, -1, 1);
    const labels = [1, 0];
    const pool = { poolSize: 2 };
    const lossOf = async (kv: Float64Array): Promise<number> =>
      (await c.values(() => {
        const z = ops.conv2d(c.t(x, xs), c.t(kv, ks), { bias: c.t([0.1, -0.1], [2]) });
        const p = ops.maxPool(ops.relu(z), pool);
        const logits = ops.matMul(p.reshape([2, 8]), c.t(w, [1, 8]), { transposeB: true });
        return ops.sigmoidCrossEntropy(logits, c.t(labels, [2, 1])).loss;
      }))[0];
    const analytic = await c.values(() => {
      const z = ops.conv2d(c.t(x, xs), c.t(k, ks), { bias: c.t([0.1, -0.1], [2]) });
      const r = ops.relu(z);
      const p = ops.maxPool(r, pool);
      const a0 = p.reshape([2, 8]);
      const wt = c.t(w, [1, 8]);
      const { grad } = ops.sigmoidCrossEntropy(ops.matMul(a0, wt, { transposeB: true }), c.t(labels, [2, 1]));
      const dP = ops.matMul(grad, wt).reshape([2, 2, 2, 2]);
      const dZ = ops.reluBackward(ops.maxPoolBackward(dP, r, pool), z);
      return ops.conv2dBackwardFilter(c.t(x, xs), dZ, ks);
    });
    // The network has kinks (ReLU, max); random inputs keep them further than h away.
    await checkVjpAsync(async (kv) => [await lossOf(kv)], k, [1], analytic, opts('∂L/∂K through the whole network'));
  });
}

// =====================================================================================
// Bad input
// =====================================================================================

function defineBadInputTests(test: TestFn, backendName: string): void {
  test('conv2d: channel mismatch, stride 0, kernel too large', ['conv2d'], async (c) => {
    const before = c.registry.memory();
    c.registry.scope(() => {
      const x = c.t(new Float64Array(75), [1, 3, 5, 5]);
      expect(() => ops.conv2d(x, c.t(new Float64Array(18), [2, 1, 3, 3]))).toThrow('conv2d: input has 3 channels but filter expects 1');
      const k = c.t(new Float64Array(27), [1, 3, 3, 3]);
      expect(() => ops.conv2d(x, k, { strides: 0 })).toThrow('stride must be a positive integer or a [height, width] pair of them, got 0');
      expect(() => ops.conv2d(x, k, { strides: [1, -1] })).toThrow('stride must be a positive integer or a [height, width] pair of them, got [1, -1]');
      expect(() => ops.conv2d(x, k, { pad: -1 })).toThrow('padding must be a non-negative integer or a [height, width] pair of them, got -1');
      expect(() => ops.conv2d(x, c.t(new Float64Array(3 * 36), [1, 3, 6, 6]))).toThrow('does not fit');
      expect(() => ops.conv2d(x, k, { bias: c.t([1, 2], [2]) })).toThrow(/bias must have shape \[1\]/);
      expect(() => ops.conv2d(c.t([1], [1, 1, 1]), k)).toThrow(/'x' must have rank 4/);
    });
    const after = c.registry.memory();
    expect([after.numTensors, after.numDataBuffers], 'failed ops leak nothing').toEqual([before.numTensors, before.numDataBuffers]);
  });

  test('pooling, matMul and head shape errors', ['maxPool', 'matMul', 'softmaxCrossEntropy', 'add'], async (c) => {
    expect(() => ops.maxPool(c.t(new Float64Array(9), [1, 1, 3, 3]), { poolSize: 4 })).toThrow('does not fit');
    expect(() => ops.maxPool(c.t(new Float64Array(9), [1, 1, 3, 3]), { poolSize: 2, strides: 0 })).toThrow('stride must be a positive integer or a [height, width] pair of them, got 0');
    expect(() => ops.matMul(c.t(new Float64Array(6), [2, 3]), c.t(new Float64Array(6), [2, 3]))).toThrow('inner dimensions differ');
    expect(() => ops.softmaxCrossEntropy(c.t([1, 2], [1, 2]), c.t([1, 0, 0], [1, 3]))).toThrow('same shape');
    expect(() => ops.add(c.t([1], [1]), c.t([1], [1], c.dtype === 'float32' ? 'float64' : 'float32'))).toThrow('cast one of them first');
  });

  test('affineResample: one 2×3 map per image, same dtype', ['affineResample'], async (c) => {
    const x = c.t(new Float64Array(8), [2, 1, 2, 2]);
    expect(() => ops.affineResample(x, c.t(new Float64Array(6), [1, 6]))).toThrow('affineResample: transforms must have shape [2, 6] (one affine map per image of x), got [1, 6]');
    expect(() => ops.affineResample(x, c.t(new Float64Array(12), [2, 2, 3]))).toThrow('transforms must have shape [2, 6]');
    expect(() => ops.affineResample(c.t(new Float64Array(4), [2, 2]), c.t(new Float64Array(12), [2, 6]))).toThrow(/'x' must have rank 4/);
    expect(() => ops.affineResample(x, c.t(new Float64Array(12), [2, 6], c.dtype === 'float32' ? 'float64' : 'float32'))).toThrow('cast one of them first');
  });

  test('oneHot rejects labels outside [0, depth) where the backend reads synchronously', ['oneHot'], async (c) => {
    const bad = c.t([0, 3], [2], 'int32');
    if (c.registry.backend.canReadSync !== false) {
      expect(() => ops.oneHot(bad, 3)).toThrow('oneHot: label 1 is 3, outside [0, 3)');
    } else {
      // Documented: without synchronous readback oneHot stays synchronous and does not check.
      const y = ops.oneHot(bad, 3);
      expect([...y.shape]).toEqual([2, 3]);
      expect(Array.from(await y.data()).slice(0, 3)).toEqual([1, 0, 0]);
    }
  });

  test('a disposed tensor cannot be used', ['relu'], async (c) => {
    const x = c.t([1, 2], [2]);
    x.dispose();
    expect(() => ops.relu(x)).toThrow(DisposedTensorError);
    expect(() => ops.relu(x)).toThrow(/was disposed/);
    expect(() => x.dataSync()).toThrow(/was disposed/);
    await expect(x.data()).rejects.toThrow(/was disposed/);
    expect(() => x.dispose()).not.toThrow();
  });

  test('an unknown backend lists the registered ones', [], async (c) => {
    expect(() => c.registry.setBackend('no-such-backend')).toThrow(`unknown backend 'no-such-backend'; registered: `);
    expect(() => c.registry.setBackend('no-such-backend')).toThrow(backendName);
    expect(c.registry.backendName).toBe(backendName);
  });
}

// =====================================================================================
// Leaks: one invocation per kernel, inside a scope
// =====================================================================================

function kernelInvocations(c: Ctx): Record<KernelName, () => unknown> {
  const r = (shape: number[], lo = -1, hi = 1): Tensor => c.rand(shape, lo, hi)[0];
  const g2 = { poolSize: 2 as const, strides: 1 as const };
  return {
    add: () => ops.add(r([2, 3]), r([2, 3])),
    sub: () => ops.sub(r([2, 3]), r([2, 3])),
    mul: () => ops.mul(r([2, 3]), r([2, 3])),
    div: () => ops.div(r([2, 3]), r([2, 3], 1, 2)),
    maximum: () => ops.maximum(r([2, 3]), r([2, 3])),
    minimum: () => ops.minimum(r([2, 3]), r([2, 3])),
    addScalar: () => ops.addScalar(r([4]), 2),
    mulScalar: () => ops.mulScalar(r([4]), 2),
    powScalar: () => ops.powScalar(r([4], 0, 1), 2),
    maximumScalar: () => ops.maximumScalar(r([4]), 0),
    minimumScalar: () => ops.minimumScalar(r([4]), 0),
    neg: () => ops.neg(r([4])),
    exp: () => ops.exp(r([4])),
    log: () => ops.log(r([4], 1, 2)),
    log1p: () => ops.log1p(r([4], 0, 1)),
    sqrt: () => ops.sqrt(r([4], 0, 1)),
    square: () => ops.square(r([4])),
    abs: () => ops.abs(r([4])),
    sign: () => ops.sign(r([4])),
    cast: () => [ops.cast(r([4]), 'int32'), ops.cast(r([4]), 'float64'), ops.cast(r([4]), 'float32')],
    relu: () => ops.relu(r([4])),
    reluBackward: () => ops.reluBackward(r([4]), r([4])),
    leakyRelu: () => ops.leakyRelu(r([4])),
    leakyReluBackward: () => ops.leakyReluBackward(r([4]), r([4])),
    sigmoid: () => ops.sigmoid(r([4])),
    sigmoidBackward: () => ops.sigmoidBackward(r([4]), r([4], 0, 1)),
    tanh: () => ops.tanh(r([4])),
    tanhBackward: () => ops.tanhBackward(r([4]), r([4])),
    softmax: () => ops.softmax(r([2, 3])),
    softmaxBackward: () => ops.softmaxBackward(r([2, 3]), r([2, 3], 0, 1)),
    logSoftmax: () => ops.logSoftmax(r([2, 3])),
    matMul: () => ops.matMul(r([2, 3]), r([4, 3]), { transposeB: true, bias: r([4]), activation: 'relu' }),
    biasAdd: () => ops.biasAdd(r([2, 3, 2, 2]), r([3])),
    biasGrad: () => ops.biasGrad(r([2, 3, 2, 2])),
    sum: () => ops.sum(r([2, 3, 4]), [0, 2], true),
    max: () => ops.max(r([2, 3, 4]), [1]),
    argMax: () => ops.argMax(r([2, 3]), 1),
    oneHot: () => ops.oneHot(c.t([0, 2, 1], [3], 'int32'), 3, c.dtype),
    conv2d: () => ops.conv2d(r([2, 2, 5, 5]), r([3, 2, 3, 3]), { strides: 2, pad: 1, bias: r([3]), activation: 'tanh' }),
    conv2dBackwardFilter: () => ops.conv2dBackwardFilter(r([2, 2, 5, 5]), r([2, 3, 3, 3]), [3, 2, 3, 3], { strides: 2, pad: 1 }),
    conv2dBackwardInput: () => ops.conv2dBackwardInput(r([2, 3, 3, 3]), r([3, 2, 3, 3]), [2, 2, 5, 5], { strides: 2, pad: 1 }),
    maxPool: () => ops.maxPool(r([1, 2, 4, 4]), g2),
    maxPoolBackward: () => ops.maxPoolBackward(r([1, 2, 3, 3]), r([1, 2, 4, 4]), g2),
    avgPool: () => ops.avgPool(r([1, 2, 4, 4]), g2),
    avgPoolBackward: () => ops.avgPoolBackward(r([1, 2, 3, 3]), [1, 2, 4, 4], g2),
    l2Pool: () => ops.l2Pool(r([1, 2, 4, 4]), g2),
    l2PoolBackward: () => {
      const x = r([1, 2, 4, 4]);
      return ops.l2PoolBackward(r([1, 2, 3, 3]), x, ops.l2Pool(x, g2), g2);
    },
    affineResample: () => ops.affineResample(r([2, 2, 4, 5]), c.t([0.9, 0.2, 0.5, -0.1, 1.1, -0.3, 1, 0, 0, 0, 1, 0], [2, 6])),
    softmaxCrossEntropy: () => ops.softmaxCrossEntropy(r([2, 3]), c.t([0, 1, 0, 1, 0, 0], [2, 3])),
    sigmoidCrossEntropy: () => ops.sigmoidCrossEntropy(r([2, 3]), r([2, 3], 0, 1)),
    sgdUpdate: () => ops.sgdUpdate(r([5]), r([5]), 0.1, 0.01),
    momentumUpdate: () => ops.momentumUpdate(r([5]), r([5]), r([5]), { learningRate: 0.1, momentum: 0.9, nesterov: true }),
    adamUpdate: () => ops.adamUpdate(r([5]), r([5]), r([5]), r([5], 0, 1), { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 2 }),
    rmspropUpdate: () => ops.rmspropUpdate(r([5]), r([5]), r([5], 0, 1), { learningRate: 0.1, rho: 0.9, epsilon: 1e-7 }),
  };
}

/** Every tensor in a kernel invocation's result (a tensor, an array, or an object of them). */
function tensorsOf(value: unknown, into: Tensor[] = []): Tensor[] {
  if (Array.isArray(value)) value.forEach((v) => tensorsOf(v, into));
  else if (value && typeof value === 'object' && 'dataSync' in value) into.push(value as Tensor);
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => tensorsOf(v, into));
  return into;
}

/**
 * Runs `invoke` in a scope (its inputs are freed when the scope ends), reads every output
 * with `await data()` (after the inputs were freed: a backend must keep what a pending
 * kernel reads), and frees the outputs. Returns the outputs' values.
 */
async function runAndRead(c: Ctx, invoke: () => unknown, onPeak?: () => void): Promise<Float64Array[]> {
  const out = c.registry.scope(() => {
    const result = invoke();
    onPeak?.();
    return tensorsOf(result);
  });
  try {
    const values: Float64Array[] = [];
    for (const t of out) values.push(Float64Array.from(await t.data()));
    return values;
  } finally {
    for (const t of out) t.dispose();
  }
}

function defineLeakTests(test: TestFn): void {
  for (const name of KERNEL_NAMES) {
    test(`${name}`, [name], async (c) => {
      const invoke = kernelInvocations(c)[name];
      const before = c.registry.memory();
      let peak = 0;
      await runAndRead(c, invoke, () => {
        peak = c.registry.memory().numTensors;
      });
      const after = c.registry.memory();
      expect(peak, 'the invocation created tensors').toBeGreaterThan(before.numTensors);
      expect(
        { numTensors: after.numTensors, numDataBuffers: after.numDataBuffers, numBytes: after.numBytes },
        `${name} leaked memory`,
      ).toEqual({ numTensors: before.numTensors, numDataBuffers: before.numDataBuffers, numBytes: before.numBytes });
    });
  }
}

const IN_PLACE: readonly KernelName[] = ['sgdUpdate', 'momentumUpdate', 'adamUpdate', 'rmspropUpdate'];

function defineRecycledBufferTests(test: TestFn): void {
  for (const name of KERNEL_NAMES.filter((k) => !IN_PLACE.includes(k))) {
    test(`${name}`, [name], async (c) => {
      const seed = 99;
      c.reseed(seed);
      const clean = await runAndRead(c, kernelInvocations(c)[name]);
      // Free buffers of every output size, full of garbage, so a backend that recycles
      // memory hands them out next; outputs must not depend on them.
      c.registry.scope(() => {
        for (const v of clean)
          for (const dtype of ['float32', 'float64', 'int32'] as const)
            for (let i = 0; i < 8; i++) c.t(new Float64Array(v.length).fill(dtype === 'int32' ? -7 : NaN), [v.length], dtype);
      });
      c.reseed(seed);
      const again = await runAndRead(c, kernelInvocations(c)[name]);
      expect(again.length).toBe(clean.length);
      again.forEach((v, i) => expectArraysClose(v, clean[i], { rtol: 0, atol: 0, label: `${name} output ${i} after buffers were recycled` }));
    });
  }
}

// =====================================================================================
// NaN propagation
// =====================================================================================

function defineNaNTests(test: TestFn): void {
  test('max pooling: NaN wins its window and receives the gradient', ['maxPool', 'maxPoolBackward'], async (c) => {
    const x = c.t([1, NaN, 5, 2, 3, 4, 0, 1, 2, 1, NaN, 0, 9, 9, 9, 9], [1, 1, 4, 4]);
    const g = { poolSize: 2 };
    const y = await ops.maxPool(x, g).data();
    expect(Number.isNaN(y[0]), 'window (0,0) holds a NaN').toBe(true);
    expect(y[1]).toBe(5);
    expect(y[2]).toBe(9);
    expect(Number.isNaN(y[3]), 'window (1,1) holds a NaN').toBe(true);
    const dx = await ops.maxPoolBackward(c.t([1, 2, 3, 4], [1, 1, 2, 2]), x, g).data();
    expectArraysClose(dx, [0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 0, 0], { rtol: 0, atol: 0, label: 'maxPoolBackward routes to the NaN' });
  });

  test('affineResample: a NaN pixel reaches the outputs that read it, a NaN map gives NaN', ['affineResample'], async (c) => {
    const x = c.t([1, NaN, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const shifted = await ops.affineResample(x, c.t([1, 0, 0.5, 0, 1, 0], [1, 6])).data();
    expect(Array.from(shifted, Number.isNaN)).toEqual([true, true, false, false, false, false, false, false, false]);
    const bad = await ops.affineResample(c.t([1, 2, 3, 4], [1, 1, 2, 2]), c.t([1, 0, NaN, 0, 1, 0], [1, 6])).data();
    expect(Array.from(bad, Number.isNaN)).toEqual([true, true, true, true]);
  });

  test('activations propagate NaN', ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'exp', 'add'], async (c) => {
    for (const [name, f] of [
      ['relu', ops.relu],
      ['leakyRelu', (t: Tensor) => ops.leakyRelu(t)],
      ['sigmoid', ops.sigmoid],
      ['tanh', ops.tanh],
      ['exp', ops.exp],
      ['add', (t: Tensor) => ops.add(t, t)],
    ] as const) {
      const y = await f(c.t([NaN, 1], [2])).data();
      expect(Number.isNaN(y[0]), `${name}(NaN) must be NaN`).toBe(true);
      expect(Number.isNaN(y[1]), `${name}(1) must not be NaN`).toBe(false);
    }
  });

  test('argMax treats NaN as the maximum; sum propagates NaN', ['argMax', 'sum'], async (c) => {
    expect(Array.from(await ops.argMax(c.t([1, 5, NaN, 7, 2, 3], [2, 3]), 1).data())).toEqual([2, 0]);
    expect(Array.from(await ops.argMax(c.t([NaN, NaN, 9], [3])).data())).toEqual([0]);
    expect(Number.isNaN((await ops.sum(c.t([1, NaN, 3], [3])).data())[0])).toBe(true);
  });

  test('conv2d: NaN spreads only to the outputs whose window reads it', ['conv2d'], async (c) => {
    const v = new Array(25).fill(1);
    v[0] = NaN;
    const y = await ops.conv2d(c.t(v, [1, 1, 5, 5]), c.t(new Array(9).fill(1), [1, 1, 3, 3])).data();
    expect(Number.isNaN(y[0])).toBe(true);
    expect(Array.from(y.slice(1))).toEqual([9, 9, 9, 9, 9, 9, 9, 9]);
  });
}
