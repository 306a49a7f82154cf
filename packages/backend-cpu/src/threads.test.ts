import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, Registry, sizeOfShape, tensor,
  type DataType, type Tensor,
} from '@backprop/tensor';
import { describeBackendConformance } from '@backprop/tensor/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from './backend.js';
import type { ConvAlgorithm } from './options.js';
import { cpuBackend, cpuBackendWithOptions, cpuBackendWithThreads } from './plugin.js';
import { rand } from './testUtil.js';
import { CLAIM, CONTROL_INTS, DONE, WAKE } from './threads/pool.js';
import { threadedBundle } from './threads/testBundle.js';

const { workerUrl, indexUrl, tensorUrl } = threadedBundle();

// Every kernel split into shares, even tiny ones, so the conformance suite exercises the shares.
const threaded = cpuBackendWithThreads(2, { workerUrl, parallelMinFlops: 0 });
describeBackendConformance('backend-cpu threads=2 float32', threaded, { backendName: 'cpu', dtypes: ['float32'] });
describeBackendConformance('backend-cpu threads=2 float64', threaded, { backendName: 'cpu', dtypes: ['float64'] });

function bitsEqual(a: ArrayLike<number>, b: ArrayLike<number>, label: string): void {
  expect(a.length, label).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`${label}: index ${i}: ${a[i]} (threads) !== ${b[i]} (single)`);
  }
}

describe('threads=2 gives bit-identical results above the threshold', () => {
  /** A single-threaded and a threaded registry for each convAlgorithm setting, made once. */
  const pairs = new Map<string, { single: Registry; multi: Registry }>();
  const registries = (convAlgorithm: Partial<ConvAlgorithm>) => {
    const key = JSON.stringify({ forward: 'auto', filter: 'auto', input: 'auto', ...convAlgorithm });
    let pair = pairs.get(key);
    if (pair === undefined) {
      pair = {
        single: new Registry().use(cpuBackendWithOptions({ convAlgorithm })),
        multi: new Registry().use(cpuBackendWithThreads(2, { workerUrl, convAlgorithm })),
      };
      pair.single.setBackend('cpu');
      pair.multi.setBackend('cpu');
      pairs.set(key, pair);
    }
    return pair;
  };
  afterAll(() => {
    for (const { multi } of pairs.values()) multi.removeBackend('cpu');
  });

  it('has a worker', () => expect((registries({}).multi.backend as CpuBackend).threads).toBe(2));

  it('the convAlgorithm option picks the job the workers run', () => {
    const xs = [32, 8, 12, 12], ks = [32, 8, 3, 3];
    const jobs = { direct: 'conv2dDirect', gemm: 'conv2dGemm', winograd: 'conv2dWinograd' } as const;
    for (const [forward, job] of Object.entries(jobs) as [keyof typeof jobs, string][]) {
      const [, x] = both(rand(sizeOfShape(xs), 1), xs, 'float32', { forward });
      const [, k] = both(rand(sizeOfShape(ks), 2), ks, 'float32', { forward });
      const parallel = vi.spyOn(registries({ forward }).multi.backend as CpuBackend, 'parallel');
      conv2d(x, k, { pad: 1 });
      expect(parallel.mock.calls.map((call) => call[0]), forward).toEqual([job]);
      parallel.mockRestore();
    }
  });

  /** The same values as a tensor of the single-threaded and of the threaded backend with this setting. */
  const both = (values: Float64Array, shape: number[], dtype: DataType, convAlgorithm: Partial<ConvAlgorithm> = {}): [Tensor, Tensor] => {
    const { single, multi } = registries(convAlgorithm);
    return [
      tensor(Array.from(values), shape, { registry: single, dtype }),
      tensor(Array.from(values), shape, { registry: multi, dtype }),
    ];
  };

  for (const dtype of ['float32', 'float64'] as const) {
    // The dense layers of Model A (forward, dW, dX), a square one and transposes.
    const gemms: [number, number, number, boolean, boolean][] = [
      [256, 256, 256, false, false], [32, 128, 1152, false, false], [1152, 128, 32, true, false],
      [32, 1152, 128, false, true], [130, 257, 300, true, true],
    ];
    for (const [m, n, k, ta, tb] of gemms) {
      it(`matMul ${m}×${n}×${k}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''} ${dtype} (+ bias, relu)`, () => {
        const [a1, a2] = both(rand(m * k, 1), ta ? [k, m] : [m, k], dtype);
        const [b1, b2] = both(rand(k * n, 2), tb ? [n, k] : [k, n], dtype);
        const [c1, c2] = both(rand(n, 3), [n], dtype);
        const opts = { transposeA: ta, transposeB: tb, bias: undefined as Tensor | undefined, activation: 'relu' as const };
        bitsEqual(matMul(a2, b2, { ...opts, bias: c2 }).dataSync(), matMul(a1, b1, { ...opts, bias: c1 }).dataSync(), 'matMul');
      });
    }

    // The paper's conv, Model B-like convs and a strided padded one, through every forward
    // and filter-gradient algorithm (each picks its own split: images, filters or columns).
    const convs: [number[], number[], number, number][] = [
      [[32, 1, 28, 28], [8, 1, 5, 5], 1, 0], [[32, 8, 12, 12], [32, 8, 3, 3], 1, 1],
      [[32, 32, 6, 6], [64, 32, 3, 3], 1, 1], [[9, 3, 17, 15], [6, 3, 4, 3], 2, 1],
    ];
    for (const [xs, ks, stride, pad] of convs) {
      it(`conv2d and its gradients x[${xs}] k[${ks}] s${stride} p${pad} ${dtype}, every algorithm`, () => {
        const g = { strides: stride, pad, activation: 'relu' as const };
        for (const forward of ['direct', 'gemm', 'winograd'] as const) {
          const [x1, x2] = both(rand(sizeOfShape(xs), 4), xs, dtype, { forward });
          const [k1, k2] = both(rand(sizeOfShape(ks), 5), ks, dtype, { forward });
          const [b1, b2] = both(rand(ks[0], 6), [ks[0]], dtype, { forward });
          const f1 = conv2d(x1, k1, { ...g, bias: b1 }), f2 = conv2d(x2, k2, { ...g, bias: b2 });
          bitsEqual(f2.dataSync(), f1.dataSync(), `conv2d (${forward})`);
        }
        const [x1, x2] = both(rand(sizeOfShape(xs), 4), xs, dtype);
        const [k1, k2] = both(rand(sizeOfShape(ks), 5), ks, dtype);
        const [b1, b2] = both(rand(ks[0], 6), [ks[0]], dtype);
        const y1 = conv2d(x1, k1, { ...g, bias: b1 }), y2 = conv2d(x2, k2, { ...g, bias: b2 });
        bitsEqual(y2.dataSync(), y1.dataSync(), 'conv2d');
        const [d1, d2] = both(rand(y1.size, 7), [...y1.shape], dtype);
        const geo = { strides: stride, pad };
        bitsEqual(
          conv2dBackwardFilter(x2, d2, ks, geo).dataSync(), conv2dBackwardFilter(x1, d1, ks, geo).dataSync(), 'filter gradient',
        );
        // Mostly zeros, as behind max pooling + ReLU: the sparse filter-gradient kernel.
        const sparse = rand(y1.size, 8).map((v, i) => (i % 5 === 0 || v > 0.6 ? v : 0));
        for (const filter of ['sparse', 'gemm', 'auto'] as const) {
          const [sx1, sx2] = both(rand(sizeOfShape(xs), 4), xs, dtype, { filter });
          const [s1, s2] = both(sparse, [...y1.shape], dtype, { filter });
          bitsEqual(
            conv2dBackwardFilter(sx2, s2, ks, geo).dataSync(), conv2dBackwardFilter(sx1, s1, ks, geo).dataSync(), `filter gradient of a sparse dy (${filter})`,
          );
        }
        bitsEqual(
          conv2dBackwardInput(d2, k2, xs, geo).dataSync(), conv2dBackwardInput(d1, k1, xs, geo).dataSync(), 'input gradient',
        );
      });
    }
  }
});

describe('the worker', () => {
  it('computes the chunks it claims (driven directly, main thread idle)', async () => {
    const { Worker, MessageChannel } = await import('node:worker_threads');
    const ctrl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(workerUrl, { workerData: { ctrl, port: port2 }, transferList: [port2] });
    try {
      const m = 64, n = 40, k = 70;
      const a = new Float32Array(new SharedArrayBuffer(m * k * 4)), b = new Float32Array(new SharedArrayBuffer(k * n * 4));
      a.set(rand(m * k, 8)); b.set(rand(k * n, 9));
      const c = new Float64Array(new SharedArrayBuffer(m * n * 8));
      Atomics.store(ctrl, CLAIM, 7 << 16);
      const args = { m, n, k, a, aOff: 0, ars: k, acs: 1, b, bOff: 0, brs: n, bcs: 1, c, ldc: n, split: 'm' };
      port1.postMessage({ id: 7, job: 'gemm', args, chunks: 3 });
      Atomics.add(ctrl, WAKE, 1);
      Atomics.notify(ctrl, WAKE);
      const t0 = Date.now();
      while (Atomics.load(ctrl, DONE) < 3 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 5));
      expect(Atomics.load(ctrl, DONE)).toBe(3);
      for (const [i, j] of [[0, 0], [33, 17], [63, 39]]) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        expect(c[i * n + j]).toBeCloseTo(s, 10);
      }
    } finally {
      await w.terminate();
      port1.close();
    }
  });
});

/**
 * A child process that makes a threaded backend, runs a large matMul, disposes (or not) and
 * ends. `index` and `tensorModule` are URLs or package names (resolved from `cwd`).
 */
function childExits(index: string, tensorModule: string, dispose: boolean, cwd?: string): { status: number | null; ms: number; out: string } {
  const code = `
    const { Registry, matMul, randomNormal } = await import(${JSON.stringify(tensorModule)});
    const { cpuBackendWithThreads } = await import(${JSON.stringify(index)});
    const r = new Registry().use(cpuBackendWithThreads(2));
    const b = r.setBackend('cpu');
    const a = randomNormal([256, 256], 0, 1, { registry: r, seed: 1 });
    for (let i = 0; i < 5; i++) matMul(a, a).dataSync();
    console.log('threads', b.threads);
    ${dispose ? 'r.removeBackend("cpu");' : ''}
  `;
  const t0 = Date.now();
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000, cwd });
  return { status: res.status, ms: Date.now() - t0, out: `${res.stdout}${res.stderr}` };
}

describe('a process with a threaded backend exits by itself', () => {
  for (const dispose of [true, false]) {
    it(`bundled from the sources, ${dispose ? 'after dispose()' : 'without dispose() (workers are unref()ed)'}`, () => {
      const r = childExits(indexUrl.href, tensorUrl.href, dispose);
      expect(r.out).toContain('threads 2');
      expect(r.status).toBe(0);
      expect(r.ms).toBeLessThan(10_000);
    });
  }

  // The built packages as a consumer loads them: Node resolves both names from this package
  // through their `import` exports (dist/). Skipped where either is not built.
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  const resolved = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "for (const p of ['@backprop/backend-cpu', '@backprop/tensor']) console.log(import.meta.resolve(p))"],
    { encoding: 'utf8', cwd: packageDir },
  ).stdout.trim().split('\n').map((url) => new URL(url));
  const built = resolved.length === 2 && [...resolved, new URL('worker.js', resolved[0])].every((url) => existsSync(fileURLToPath(url)));
  it.skipIf(!built)(
    'from the built dist (worker.js found next to index.js)',
    () => {
      const r = childExits('@backprop/backend-cpu', '@backprop/tensor', true, packageDir);
      expect(r.out).toContain('threads 2');
      expect(r.status).toBe(0);
      expect(r.ms).toBeLessThan(10_000);
    },
  );
});

describe('without worker threads', () => {
  it('falls back to one thread with no error (no worker script / threads: 1)', () => {
    // From the TypeScript sources there is no worker.js, like a missing build: no pool.
    const b = new CpuBackend({ threads: 2 });
    expect(b.threads).toBe(1);
    b.dispose();
    expect(new CpuBackend().threads).toBe(1);
  });

  it('keeps computing (on the calling thread) when the worker script cannot be loaded', async () => {
    const r = new Registry().use(cpuBackendWithThreads(2, { workerUrl: new URL('./no-such-worker.js', workerUrl) }));
    r.setBackend('cpu');
    const a = tensor(Array.from(rand(128 * 128, 1)), [128, 128], { registry: r, dtype: 'float64' });
    const single = new Registry().use(cpuBackend);
    const a1 = tensor(Array.from(rand(128 * 128, 1)), [128, 128], { registry: single, dtype: 'float64' });
    const expected = matMul(a1, a1).dataSync();
    bitsEqual(matMul(a, a).dataSync(), expected, 'before the worker failed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    bitsEqual(matMul(a, a).dataSync(), expected, 'after the worker failed');
    r.removeBackend('cpu');
  });

  it('falls back where worker_threads is missing (process.getBuiltinModule absent, as in a browser)', () => {
    const proc = process as unknown as { getBuiltinModule?: unknown };
    const saved = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      const b = new CpuBackend({ threads: 2, workerUrl });
      expect(b.threads).toBe(1);
      b.dispose();
    } finally {
      proc.getBuiltinModule = saved;
    }
  });
});
