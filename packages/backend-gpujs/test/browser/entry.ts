/**
 * Runs in Chromium (bundled by test/browser.test.ts, with 'vitest' aliased to
 * ./harness.ts and '@backprop/datasets' to ./mnist.ts), in the gpu.js mode named by the
 * page's `?mode=` (webgl2 or webgpu):
 *   1. float32 parity of every kernel of KERNEL_NAMES against the CPU backend, plus the
 *      worked example W2 (apps/docs/math/convolution.md) worked example exactly (a compact case table);
 *   2. the real suites, unchanged: describeBackendConformance, the gpu.js traps, training
 *      steps back to the memory baseline, and MNIST steps matching the CPU backend's losses
 *      (relative 1e-3; step counts in ./steps.ts), all reading with `await data()`.
 * Where the mode has no device here (webgpu without an adapter), it records why and the
 * GpujsModeError a read gets instead. The outcome is left on `window.__result`.
 */
import { cpuBackend } from '@backprop/backend-cpu';
import * as ops from '@backprop/tensor';
import { createRandom, type DataType, type FusedActivation, KERNEL_NAMES, type Random, Registry, type Tensor } from '@backprop/tensor';
import { describeBackendConformance } from '@backprop/tensor/testing';
import * as lib from '../../src/index.js';
import { GpujsBackend, type GpujsConcreteMode, gpujsBackend } from '../../src/index.js';
import { defineTrainingTests, defineTrapTests } from '../suites.js';
import { BROWSER_MEMORY_STEPS, BROWSER_PARITY_STEPS } from './steps.js';
import { type HarnessResult, runRegistered } from './harness.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

interface Failure {
  kernel: string;
  message: string;
}
export interface KernelTableResult {
  mode: string;
  onDevice: boolean;
  passed: string[];
  checked: string[];
  failed: Failure[];
  cases: number;
  seconds: number;
}

export interface BrowserResult {
  mode: string;
  /** What `navigator.gpu.requestAdapter()` gave (webgpu), for the log. */
  adapter?: unknown;
  /** Set when the mode has no device here: why, and the error a read got. */
  unavailable?: { why: string; readError: { name: string; message: string } | null };
  kernels?: KernelTableResult;
  tests?: HarnessResult;
}

/** Creates tensors on one registry; both registries replay the same random stream per case. */
class Maker {
  rng: Random = createRandom(1);
  constructor(readonly registry: Registry) {}
  t(values: ArrayLike<number>, shape: number[], dtype: DataType = 'float32'): Tensor {
    return ops.tensor(Array.from(values), shape, { registry: this.registry, dtype });
  }
  r(shape: number[], lo = -1, hi = 1): Tensor {
    const n = ops.sizeOfShape(shape);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = this.rng.uniform(lo, hi);
    return this.t(v, shape);
  }
}

type Case = [label: string, run: (m: Maker) => unknown];

const ACTIVATIONS: FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'leakyRelu'];
const overlap = { poolSize: 3 as const, strides: 2 as const };
const overlapPad = { poolSize: 2 as const, strides: 1 as const };

function cases(): Case[] {
  const list: Case[] = [];
  const add = (label: string, run: (m: Maker) => unknown): void => void list.push([label, run]);
  // Elementwise, binary (same shape and broadcast).
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
    const lo = op === 'div' ? 1 : -1;
    add(`${op} [3,4]`, (m) => ops[op](m.r([3, 4]), m.r([3, 4], lo, 2)));
  }
  add('addScalar', (m) => ops.addScalar(m.r([7]), 2.5));
  add('mulScalar', (m) => ops.mulScalar(m.r([7]), -3));
  add('powScalar', (m) => [ops.powScalar(m.r([7], 0.1, 2), 2), ops.powScalar(m.r([7], 0.1, 2), 0.5), ops.powScalar(m.r([7], 0.1, 2), 3)]);
  add('maximumScalar', (m) => ops.maximumScalar(m.r([7]), 0.1));
  add('minimumScalar', (m) => ops.minimumScalar(m.r([7]), -0.1));
  add('neg', (m) => ops.neg(m.r([7])));
  add('exp', (m) => ops.exp(m.r([7], -3, 3)));
  add('log', (m) => ops.log(m.r([7], 0.1, 5)));
  add('log1p', (m) => ops.log1p(m.r([7], 0, 2)));
  add('sqrt', (m) => ops.sqrt(m.r([7], 0, 4)));
  add('square', (m) => ops.square(m.r([7])));
  add('abs', (m) => ops.abs(m.r([7])));
  add('sign', (m) => ops.sign(m.t([-2, 0, 3, -0.5, 1e-3], [5])));
  add('cast', (m) => [ops.cast(m.t([1.7, -2.2, 3.9, -0.4], [4]), 'int32'), ops.cast(m.r([4]), 'float32')]);
  add('relu', (m) => ops.relu(m.r([9])));
  add('reluBackward', (m) => ops.reluBackward(m.r([9]), m.r([9])));
  add('leakyRelu', (m) => [ops.leakyRelu(m.r([9])), ops.leakyRelu(m.r([9]), 0.3)]);
  add('leakyReluBackward', (m) => ops.leakyReluBackward(m.r([9]), m.r([9]), 0.3));
  add('sigmoid', (m) => ops.sigmoid(m.r([9], -6, 6)));
  add('sigmoidBackward', (m) => ops.sigmoidBackward(m.r([9]), m.r([9], 0, 1)));
  add('tanh', (m) => ops.tanh(m.r([9], -4, 4)));
  add('tanhBackward', (m) => ops.tanhBackward(m.r([9]), m.r([9], -1, 1)));
  add('softmax', (m) => ops.softmax(m.r([3, 5], -4, 4)));
  add('softmaxBackward', (m) => ops.softmaxBackward(m.r([3, 5]), ops.softmax(m.r([3, 5]))));
  add('logSoftmax', (m) => ops.logSoftmax(m.r([3, 5], -4, 4)));
  // matMul: every transpose, with bias and each fused activation.
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      for (const activation of ACTIVATIONS) {
        add(`matMul tA=${transposeA} tB=${transposeB} ${activation}`, (m) => {
          const a = m.r(transposeA ? [5, 3] : [3, 5]);
          const b = m.r(transposeB ? [4, 5] : [5, 4]);
          return ops.matMul(a, b, { transposeA, transposeB, bias: m.r([4]), activation, alpha: 0.2 });
        });
      }
    }
  }
  add('matMul 17x33x19 no bias', (m) => ops.matMul(m.r([17, 33]), m.r([33, 19])));
  add('biasAdd', (m) => [ops.biasAdd(m.r([2, 3, 2, 2]), m.r([3])), ops.biasAdd(m.r([4, 6]), m.r([6]))]);
  add('biasGrad', (m) => [ops.biasGrad(m.r([2, 3, 2, 2])), ops.biasGrad(m.r([4, 6]))]);
  add('sum', (m) => {
    const x = m.r([2, 3, 4]);
    return [ops.sum(x), ops.sum(x, [0, 2], true), ops.sum(x, [1]), ops.sum(x, [-1], false)];
  });
  add('max', (m) => {
    const x = m.r([2, 3, 4]);
    return [ops.max(x), ops.max(x, [1]), ops.max(x, [0, 2], true)];
  });
  add('argMax', (m) => [ops.argMax(m.r([3, 5]), 1), ops.argMax(m.r([3, 5]), 0)]);
  add('oneHot', (m) => [ops.oneHot(m.t([0, 2, 1, 4], [4], 'int32'), 5), ops.oneHot(m.t([3, 0], [2], 'int32'), 4, 'float32')]);
  // Convolutions: stride 2 / padding 1, and stride 1 / no padding.
  const convGeos = [
    { strides: 2, pad: 1 },
    { strides: 1, pad: 0 },
  ];
  for (const geo of convGeos) {
    const tag = `s${geo.strides}p${geo.pad}`;
    const outHW = 3; // 5×5 input, 3×3 filter: (5 + 2·1 − 3)/2 + 1 = 3 and (5 − 3)/1 + 1 = 3
    add(`conv2d ${tag}`, (m) => [
      ops.conv2d(m.r([2, 2, 5, 5]), m.r([3, 2, 3, 3]), { ...geo, bias: m.r([3]), activation: 'tanh' }),
      ops.conv2d(m.r([2, 2, 5, 5]), m.r([3, 2, 3, 3]), geo),
    ]);
    add(`conv2dBackwardFilter ${tag}`, (m) => ops.conv2dBackwardFilter(m.r([2, 2, 5, 5]), m.r([2, 3, outHW, outHW]), [3, 2, 3, 3], geo));
    add(`conv2dBackwardInput ${tag}`, (m) => ops.conv2dBackwardInput(m.r([2, 3, outHW, outHW]), m.r([3, 2, 3, 3]), [2, 2, 5, 5], geo));
  }
  // Pools: overlapping windows (3/2 and 2/1).
  for (const [tag, g, inHW, outHW] of [
    ['3s2', overlap, 5, 2],
    ['2s1', overlapPad, 4, 3],
  ] as const) {
    add(`maxPool ${tag}`, (m) => ops.maxPool(m.r([2, 2, inHW, inHW]), g));
    add(`maxPoolBackward ${tag}`, (m) => ops.maxPoolBackward(m.r([2, 2, outHW, outHW]), m.r([2, 2, inHW, inHW]), g));
    add(`avgPool ${tag}`, (m) => ops.avgPool(m.r([2, 2, inHW, inHW]), g));
    add(`avgPoolBackward ${tag}`, (m) => ops.avgPoolBackward(m.r([2, 2, outHW, outHW]), [2, 2, inHW, inHW], g));
    add(`l2Pool ${tag}`, (m) => ops.l2Pool(m.r([2, 2, inHW, inHW]), g));
    add(`l2PoolBackward ${tag}`, (m) => {
      const x = m.r([2, 2, inHW, inHW]);
      return ops.l2PoolBackward(m.r([2, 2, outHW, outHW]), x, ops.l2Pool(x, g), g);
    });
  }
  // Resampling: rotation/zoom/shift maps that reach past the border.
  add('affineResample', (m) => ops.affineResample(m.r([2, 2, 6, 7]), m.t([0.9, 0.3, 1.2, -0.3, 0.9, -0.7, 1.2, 0, -2.5, 0, 0.8, 1.5], [2, 6])));
  add('softmaxCrossEntropy', (m) => ops.softmaxCrossEntropy(m.r([3, 4], -3, 3), m.t([0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], [3, 4])));
  add('sigmoidCrossEntropy', (m) => ops.sigmoidCrossEntropy(m.r([3, 4], -3, 3), m.r([3, 4], 0, 1)));
  // Optimizer updates (in place), two steps each.
  add('sgdUpdate', (m) => {
    const p = m.r([6]);
    for (let s = 0; s < 2; s++) ops.sgdUpdate(p, m.r([6]), 0.1, 0.01);
    return p;
  });
  add('momentumUpdate', (m) => {
    const out: Tensor[] = [];
    for (const nesterov of [false, true]) {
      const p = m.r([6]);
      const v = m.r([6]);
      for (let s = 0; s < 2; s++) ops.momentumUpdate(p, m.r([6]), v, { learningRate: 0.1, momentum: 0.9, nesterov, weightDecay: 0.01 });
      out.push(p, v);
    }
    return out;
  });
  add('adamUpdate', (m) => {
    const p = m.r([6]);
    const mm = m.t(new Array(6).fill(0), [6]);
    const v = m.t(new Array(6).fill(0), [6]);
    for (let s = 1; s <= 2; s++) ops.adamUpdate(p, m.r([6]), mm, v, { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: s });
    return [p, mm, v];
  });
  add('rmspropUpdate', (m) => {
    const p = m.r([6]);
    const ms = m.t(new Array(6).fill(0), [6]);
    for (let s = 0; s < 2; s++) ops.rmspropUpdate(p, m.r([6]), ms, { learningRate: 0.1, rho: 0.9, epsilon: 1e-7 });
    return [p, ms];
  });
  return list;
}

interface Out {
  shape: number[];
  dtype: string;
  values: number[];
}

async function collect(value: unknown, into: Out[] = []): Promise<Out[]> {
  if (Array.isArray(value)) for (const v of value) await collect(v, into);
  else if (value && typeof value === 'object' && 'dataSync' in value) {
    const t = value as Tensor;
    into.push({ shape: [...t.shape], dtype: t.dtype, values: Array.from(await t.data()) });
  } else if (value && typeof value === 'object') for (const v of Object.values(value)) await collect(v, into);
  return into;
}

function isClose(a: number, e: number): boolean {
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a);
  if (a === e) return true;
  if (!Number.isFinite(e) || !Number.isFinite(a)) return false;
  return Math.abs(a - e) <= ATOL + RTOL * Math.abs(e);
}

function compare(label: string, got: Out[], want: Out[]): string | null {
  if (got.length !== want.length) return `${label}: ${got.length} outputs, CPU has ${want.length}`;
  for (let o = 0; o < got.length; o++) {
    const [g, w] = [got[o], want[o]];
    if (g.shape.join() !== w.shape.join()) return `${label} output ${o}: shape [${g.shape}] vs CPU [${w.shape}]`;
    if (g.dtype !== w.dtype) return `${label} output ${o}: dtype ${g.dtype} vs CPU ${w.dtype}`;
    const exact = g.dtype !== 'float32' && g.dtype !== 'float64';
    for (let i = 0; i < w.values.length; i++) {
      const ok = exact ? g.values[i] === w.values[i] : isClose(g.values[i], w.values[i]);
      if (!ok) return `${label} output ${o}[${i}]: gpujs ${g.values[i]}, CPU ${w.values[i]}`;
    }
  }
  return null;
}

function seedOf(label: string): number {
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** worked example W2 (apps/docs/math/convolution.md): conv forward (cross-correlation) and all three gradients, exact. */
async function w2(m: Maker): Promise<string[]> {
  const problems: string[] = [];
  const X4 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const K2 = [1, 2, 3, 4];
  const x = m.t(X4, [1, 1, 4, 4]);
  const k = m.t(K2, [1, 1, 2, 2]);
  const G = m.t([1, 0, -1, 0, 2, 0, 1, 0, 0], [1, 1, 3, 3]);
  const checks: [string, Tensor, number[]][] = [
    ['W2 forward', ops.conv2d(x, k, { bias: m.t([1], [1]) }), [45, 55, 65, 85, 95, 105, 125, 135, 145]],
    ['W2 ∂b', ops.biasGrad(G), [3]],
    ['W2 ∂K', ops.conv2dBackwardFilter(x, G, [1, 1, 2, 2]), [19, 22, 31, 34]],
    ['W2 ∂X', ops.conv2dBackwardInput(G, k, [1, 1, 4, 4]), [1, 2, -1, -2, 3, 6, 1, -4, 1, 8, 8, 0, 3, 4, 0, 0]],
  ];
  for (const [label, t, want] of checks) {
    const got = Array.from(await t.data());
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) problems.push(`${label}: got [${got}], the worked example says [${want}]`);
  }
  return problems;
}

async function kernelTable(mode: GpujsConcreteMode): Promise<KernelTableResult> {
  const started = performance.now();
  const gpu = new Registry().use(gpujsBackend({ mode }));
  gpu.setBackend('gpujs');
  const cpu = new Registry().use(cpuBackend);
  cpu.setBackend('cpu');
  const backend = gpu.backend as GpujsBackend;

  // Every kernel the gpujs registry actually runs is recorded.
  const invoked = new Set<string>();
  const failedKernels = new Map<string, string>();
  const original = gpu.runKernel.bind(gpu) as (...args: unknown[]) => unknown;
  (gpu as unknown as { runKernel: (...args: unknown[]) => unknown }).runKernel = (...args: unknown[]) => {
    invoked.add(String(args[0]));
    return original(...args);
  };
  const failed: Failure[] = [];
  const fail = (kernels: Iterable<string>, message: string): void => {
    for (const kernel of kernels) {
      failed.push({ kernel, message });
      failedKernels.set(kernel, message);
    }
  };

  const all = cases();
  for (const [label, body] of all) {
    const before = new Set(invoked);
    const kernelsOfCase = (): string[] => {
      const mine = new Set<string>();
      // Kernels first seen here, plus the case's own kernel name (its first word).
      for (const k of invoked) if (!before.has(k)) mine.add(k);
      mine.add(label.split(' ')[0]);
      return [...mine];
    };
    try {
      const cm = new Maker(cpu);
      cm.rng = createRandom(seedOf(label));
      const want = await collect(body(cm));
      const gm = new Maker(gpu);
      gm.rng = createRandom(seedOf(label));
      const got = await collect(body(gm));
      const problem = compare(label, got, want);
      if (problem) fail(kernelsOfCase(), problem);
    } catch (e) {
      fail(kernelsOfCase(), `${label}: threw ${(e as Error)?.stack ?? String(e)}`);
    }
  }
  try {
    for (const problem of await w2(new Maker(gpu))) fail(['conv2d'], problem);
  } catch (e) {
    fail(['conv2d'], `W2 threw ${String(e)}`);
  }
  const checked = KERNEL_NAMES.filter((k) => invoked.has(k));
  const passed = checked.filter((k) => !failedKernels.has(k));
  const result = { mode: backend.mode, onDevice: backend.onDevice, passed, checked, failed, cases: all.length, seconds: (performance.now() - started) / 1000 };
  gpu.removeBackend('gpujs');
  await backend.whenDisposed();
  return result;
}

async function describeAdapter(): Promise<unknown> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null> } }).gpu;
  if (!gpu) return 'navigator.gpu is undefined';
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return { vendor: info.vendor, architecture: info.architecture, description: info.description, fallback: info.isFallbackAdapter ?? adapter.isFallbackAdapter };
}

/** The mode cannot run here: the backend still starts (navigator.gpu exists), and its first read says why. */
async function readError(mode: GpujsConcreteMode): Promise<{ name: string; message: string } | null> {
  try {
    const registry = new Registry().use(gpujsBackend({ mode }));
    registry.setBackend('gpujs');
    const backend = registry.backend as GpujsBackend;
    try {
      await ops.tensor([1, 2, 3], [3], { registry }).data();
      return null;
    } finally {
      registry.removeBackend('gpujs');
      await backend.whenDisposed();
    }
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
}

async function main(): Promise<BrowserResult> {
  const mode = (new URLSearchParams(location.search).get('mode') ?? 'webgl2') as GpujsConcreteMode;
  const result: BrowserResult = { mode };
  if (mode === 'webgpu') result.adapter = await describeAdapter();
  const why = await lib.whyUnavailableAsync(mode);
  if (why !== null) {
    result.unavailable = { why, readError: await readError(mode) };
    return result;
  }
  result.kernels = await kernelTable(mode);
  describeBackendConformance(`backend-gpujs ${mode} mode`, gpujsBackend({ mode }), { backendName: 'gpujs', dtypes: ['float32'] });
  defineTrapTests(mode, lib, 'chromium');
  defineTrainingTests(mode, lib, { memorySteps: BROWSER_MEMORY_STEPS, paritySteps: BROWSER_PARITY_STEPS });
  result.tests = await runRegistered((done) => {
    (globalThis as { __progress?: number }).__progress = done;
  });
  return result;
}

(globalThis as { __result?: unknown }).__result = undefined;
setTimeout(() => {
  main().then(
    (result) => {
      (globalThis as { __result?: unknown }).__result = result;
    },
    (e: unknown) => {
      (globalThis as { __result?: unknown }).__result = { fatal: (e as Error)?.stack ?? String(e) };
    },
  );
}, 0);
