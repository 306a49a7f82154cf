/**
 * Threads for the wasm backend's GEMM — prototype for `wasmBackendWithOptions({ threads: n })`
 * (issue 13, step 3); not wired into the backend yet (see "Integration" below).
 *
 * Design
 * - One WebAssembly.Memory, shared: the kernels built with `--sharedMemory --enable threads`
 *   (their memory import is `shared`, with a maximum). The main thread's instance and one
 *   instance in each of threads − 1 workers (worker_threads in Node, Web Workers in browsers)
 *   import it, so tensors never move; a worker only needs the compiled module, the memory and
 *   where the control block is.
 * - A gemm call is cut into `threads` blocks of C's columns (whole 16-column micro-tiles), or of
 *   its rows when C has too few columns. The main thread computes block 0, worker i block i, each
 *   with its own scratch. assembly/gemm.ts computes every element of C the same way whatever
 *   block it is in ("Summation order" there; src/gemm.test.ts checks that pieces are
 *   bit-identical to one call), so the result is bit-identical to one thread — whichever thread
 *   computes which block. That is what makes every fallback below safe.
 * - Hand-off through a control block of Int32s in the shared memory: a job generation, the count
 *   of workers still busy, an error flag, a shutdown flag, and per worker the generation it was
 *   given work for plus the 12 gemm arguments and its scratch. Workers sleep in Atomics.wait on
 *   the generation; the main thread writes the slots, bumps the generation, notifies, computes
 *   its own block, then waits for the busy count to reach 0 (Atomics.wait where the engine
 *   allows it — Node, workers — and a spin on Atomics.load on a browser's main thread, where
 *   waiting is forbidden).
 * - Workers start asynchronously. Until one reports ready, its block runs on the main thread, so
 *   the pool is usable (and its results identical) from the first call. A worker that cannot
 *   start — no shared memory (a browser page without cross-origin isolation), no Worker, the
 *   module failing to instantiate, an error event, no answer within startTimeoutMs — is recorded
 *   with its reason in `failures`; `ready` resolves with them, and its block stays on the main
 *   thread for good. Nothing throws at creation: a backend asked for threads stays usable on one.
 * - Small products run on the main thread alone: waking a worker costs tens of microseconds,
 *   the whole of a per-image conv GEMM (see minParallelFlop).
 *
 * Integration (what the backend needs; files outside this folder):
 * - build: a second asc target with `--sharedMemory --enable threads` (backend-threads.wasm), used
 *   when threads > 1 — a shared memory needs cross-origin isolation in browsers, so the
 *   single-thread binary stays the default;
 * - options.ts: accept threads ≥ 1; backend.ts: a shared WebAssembly.Memory (same initial/maximum),
 *   a GemmThreadPool over it, its control block allocated once from the allocator, and
 *   `dispose()` calling terminate();
 * - kernels: matMul asks `scratchBytes(M, N, K)` for its scratch and calls `pool.gemm`; the conv
 *   kernels call gemm from inside wasm, so either they get an imported `env.gemm` that this pool
 *   implements, or (better for the per-image GEMMs, too small to split) they split their batch of
 *   images across the pool the same way, with each image's work unchanged (the filter gradient's
 *   sum over images then needs per-thread partial sums added in a fixed order, in one thread too).
 */
import { BackpropError } from '@backprop/tensor';
import type { WasmExports } from '../exports.js';

/** The two exports of assembly/gemm.ts the pool calls (pointers are byte offsets, flags 0/1). */
export type GemmKernels = Pick<WasmExports, 'gemm' | 'gemmScratchBytes'>;

/** C = op(A)·op(B) (or C += …), as assembly/gemm.ts takes it. */
export interface GemmCall {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  c: number;
  ldc: number;
  accumulate: boolean;
}

export interface GemmThreadPoolOptions {
  /** Threads in all, the main thread included (≥ 1). */
  threads: number;
  /** The kernels compiled with a shared memory import; each worker instantiates it. */
  module: WebAssembly.Module;
  /** The shared memory the main thread's instance works on. */
  memory: WebAssembly.Memory;
  /** The main thread's instance. */
  kernels: GemmKernels;
  /** Byte offset of controlBlockBytes(threads) bytes of the memory, 64-byte aligned, for the pool alone. */
  control: number;
  /** How long a worker may take to report ready before it counts as failed (default 10 s). */
  startTimeoutMs?: number;
  /** Products of fewer floating-point operations run on the main thread alone (default 2²¹). */
  minParallelFlop?: number;
}

/** What `ready` resolves to: how many workers run, and why the others do not. */
export interface GemmThreadPoolStatus {
  workers: number;
  failures: string[];
}

// Control block layout (Int32 indices).
const GENERATION = 0;
const BUSY = 1;
const ERROR = 2;
const SHUTDOWN = 3;
const HEADER_INTS = 16;
const SLOT_INTS = 16; // [generation, 12 gemm arguments, scratch, unused ×2]

/** Bytes of shared memory the pool's control block needs. */
export function controlBlockBytes(threads: number): number {
  return (HEADER_INTS + threads * SLOT_INTS) * 4;
}

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Whether the memory is shared (SharedArrayBuffer is not even defined on a page that is not cross-origin isolated). */
const isShared = (memory: WebAssembly.Memory): boolean => typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;

/**
 * The worker's whole program, sent as source text (so no separate file has to be found next to a
 * bundle): instantiate the module on the shared memory, report ready, then serve jobs until the
 * shutdown flag. Self-contained on purpose — it is stringified, nothing outside it exists there.
 */
function gemmWorkerProgram(
  init: { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; index: number; threads: number },
  post: (message: { type: 'ready' } | { type: 'failed'; reason: string }) => void,
): void {
  let gemm: (...args: number[]) => void;
  try {
    if (typeof SharedArrayBuffer !== 'function' || !(init.memory.buffer instanceof SharedArrayBuffer)) throw new Error('the memory is not shared');
    const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    gemm = instance.exports.gemm as (...args: number[]) => void;
    if (typeof gemm !== 'function') throw new Error('the module exports no gemm');
  } catch (error) {
    post({ type: 'failed', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    return;
  }
  const ctl = new Int32Array(init.memory.buffer, init.control, 16 + init.threads * 16);
  // Read before reporting ready: any job given to this worker comes after, with a newer generation.
  let seen = Atomics.load(ctl, 0);
  post({ type: 'ready' });
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    const generation = Atomics.load(ctl, 0);
    if (generation === seen) continue;
    seen = generation;
    if (Atomics.load(ctl, 3) !== 0) return;
    const s = 16 + init.index * 16;
    if (Atomics.load(ctl, s) !== generation) continue; // a job without a block for this worker
    try {
      // prettier-ignore
      gemm(ctl[s + 1], ctl[s + 2], ctl[s + 3], ctl[s + 4], ctl[s + 5], ctl[s + 6] >>> 0, ctl[s + 7],
        ctl[s + 8] >>> 0, ctl[s + 9], ctl[s + 10] >>> 0, ctl[s + 11], ctl[s + 12], ctl[s + 13] >>> 0);
    } catch {
      Atomics.store(ctl, 2, init.index);
    }
    if (Atomics.sub(ctl, 1, 1) === 1) Atomics.notify(ctl, 1);
  }
}

/** Minimal common face of a Node worker_threads Worker and a browser Worker. */
interface StartedWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
  onMessage(listener: (message: unknown) => void): void;
  onError(listener: (reason: string) => void): void;
}

async function startWorker(): Promise<StartedWorker> {
  const program = `(${gemmWorkerProgram.toString()})`;
  if (typeof globalThis.Worker === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function') {
    const source = `self.onmessage = (e) => { self.onmessage = null; ${program}(e.data, (m) => self.postMessage(m)); };`;
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    return {
      postMessage: (m) => worker.postMessage(m),
      terminate: () => worker.terminate(),
      onMessage: (listener) => worker.addEventListener('message', (e) => listener(e.data)),
      onError: (listener) => worker.addEventListener('error', (e) => listener(e.message || 'worker error event')),
    };
  }
  // Node: worker_threads, loaded lazily so that browser bundles never see it.
  const specifier = 'node:worker_threads';
  const { Worker: NodeWorker } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
  const source = `const { parentPort } = require('node:worker_threads'); parentPort.once('message', (init) => ${program}(init, (m) => parentPort.postMessage(m)));`;
  const worker = new NodeWorker(source, { eval: true });
  worker.unref();
  return {
    postMessage: (m) => worker.postMessage(m),
    terminate: () => worker.terminate(),
    onMessage: (listener) => worker.on('message', listener),
    onError: (listener) => {
      worker.on('error', (e) => listener(`${e.name}: ${e.message}`));
      worker.on('exit', (code) => listener(`exited with code ${code}`));
    },
  };
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(view: Int32Array): boolean {
  try {
    Atomics.wait(view, ERROR, -12345, 0);
    return true;
  } catch {
    return false;
  }
}

export class GemmThreadPool {
  readonly threads: number;
  /** Why workers did not start (one line each); empty while all are starting or running. */
  readonly failures: string[] = [];
  /** Resolves once every worker has started or failed. */
  readonly ready: Promise<GemmThreadPoolStatus>;
  private readonly kernels: GemmKernels;
  private readonly memory: WebAssembly.Memory;
  private readonly control: number;
  private readonly minParallelFlop: number;
  /** Worker i (1-based; 0 is the main thread) takes blocks only once it reported ready. */
  private readonly running: boolean[];
  private readonly workers: (StartedWorker | null)[];
  private blocking: boolean | null = null;
  private terminated = false;

  constructor(options: GemmThreadPoolOptions) {
    const where = 'GemmThreadPool';
    const { threads, module, memory, kernels, control, startTimeoutMs = 10_000, minParallelFlop = 2 ** 21 } = options;
    if (!Number.isInteger(threads) || threads < 1) throw new BackpropError(where, `threads must be an integer ≥ 1, got ${threads}`);
    if (!Number.isInteger(control) || control < 0 || control % 64 !== 0) {
      throw new BackpropError(where, `control must be a 64-byte aligned byte offset, got ${control}`);
    }
    this.threads = threads;
    this.kernels = kernels;
    this.memory = memory;
    this.control = control;
    this.minParallelFlop = minParallelFlop;
    this.running = new Array<boolean>(threads).fill(false);
    this.running[0] = true;
    this.workers = new Array<StartedWorker | null>(threads).fill(null);
    if (threads === 1) {
      this.ready = Promise.resolve({ workers: 0, failures: [] });
      return;
    }
    if (!isShared(memory)) {
      this.failures.push(
        'the memory is not shared (a shared WebAssembly.Memory needs SharedArrayBuffer: in a browser, a cross-origin isolated page), so gemm runs on one thread',
      );
      this.ready = Promise.resolve({ workers: 0, failures: this.failures });
      return;
    }
    this.view().fill(0);
    const starts: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) starts.push(this.start(index, module, startTimeoutMs));
    this.ready = Promise.all(starts).then(() => ({ workers: this.running.filter(Boolean).length - 1, failures: this.failures }));
  }

  private view(): Int32Array {
    // A grown shared memory gives a new, longer SharedArrayBuffer; the control block does not move.
    return new Int32Array(this.memory.buffer, this.control, HEADER_INTS + this.threads * SLOT_INTS);
  }

  private start(index: number, module: WebAssembly.Module, timeoutMs: number): Promise<void> {
    return new Promise<void>((settle) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failures.push(`worker ${index} did not start: ${reason}; its share of gemm runs on the main thread`);
        this.workers[index]?.terminate();
        this.workers[index] = null;
        settle();
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      startWorker().then(
        (worker) => {
          if (settled || this.terminated) {
            void worker.terminate();
            return;
          }
          this.workers[index] = worker;
          worker.onError((reason) => {
            if (!settled) return fail(reason);
            if (this.terminated || !this.running[index]) return;
            // Died after starting (between jobs: a death during one would leave gemm waiting).
            this.running[index] = false;
            this.failures.push(`worker ${index} stopped: ${reason}; its share of gemm runs on the main thread`);
          });
          worker.onMessage((message) => {
            const m = message as { type: string; reason?: string };
            if (m.type === 'failed') return fail(m.reason ?? 'unknown');
            if (m.type !== 'ready' || settled) return;
            settled = true;
            clearTimeout(timer);
            this.running[index] = true;
            settle();
          });
          worker.postMessage({ module, memory: this.memory, control: this.control, index, threads: this.threads });
        },
        (error: unknown) => fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
      );
    });
  }

  /** How C is cut: `threads` blocks of columns (whole 16-column tiles) or rows, or one block. */
  private blocks(M: number, N: number, K: number): { along: 'columns' | 'rows'; edges: number[] } {
    const t = this.threads;
    if (t === 1 || 2 * M * N * K < this.minParallelFlop) return { along: 'columns', edges: [0, N] };
    const cut = (extent: number, unit: number) => {
      const step = Math.ceil(extent / t / unit) * unit;
      const edges = [0];
      for (let i = 1; i < t; i++) edges.push(Math.min(extent, i * step));
      edges.push(extent);
      return edges;
    };
    if (N >= 16 * t) return { along: 'columns', edges: cut(N, 16) };
    if (M >= 2 * t) return { along: 'rows', edges: cut(M, 2) };
    return { along: 'columns', edges: [0, N] };
  }

  /** Scratch bytes `gemm` needs for these sizes (one 64-byte aligned block per thread). */
  scratchBytes(M: number, N: number, K: number): number {
    return this.blocks(M, N, K).edges.length > 2 ? this.threads * this.blockScratch(M, N, K) : this.kernels.gemmScratchBytes(M, N, K);
  }

  private blockScratch(M: number, N: number, K: number): number {
    const { along, edges } = this.blocks(M, N, K);
    let most = 0;
    for (let i = 0; i + 1 < edges.length; i++) {
      const extent = edges[i + 1] - edges[i];
      most = Math.max(most, this.kernels.gemmScratchBytes(along === 'rows' ? extent : M, along === 'rows' ? N : extent, K));
    }
    return align64(most);
  }

  /**
   * C = op(A)·op(B) (+ C when accumulating) on the pool; `scratch` is 64-byte aligned and holds
   * scratchBytes(M, N, K) bytes. Bit-identical to one gemm call whatever the number of workers.
   */
  gemm(call: GemmCall, scratch: number): void {
    const { transA, transB, M, N, K, a, lda, b, ldb, c, ldc, accumulate } = call;
    const { along, edges } = this.blocks(M, N, K);
    if (edges.length === 2 || this.terminated) {
      this.kernels.gemm(+transA, +transB, M, N, K, a, lda, b, ldb, c, ldc, +accumulate, scratch);
      return;
    }
    const perThread = this.blockScratch(M, N, K);
    const args = (i: number): number[] => {
      const [from, to] = [edges[i], edges[i + 1]];
      if (along === 'columns') {
        const bAt = b + 4 * (transB ? from * ldb : from);
        return [+transA, +transB, M, to - from, K, a, lda, bAt, ldb, c + 4 * from, ldc, +accumulate, scratch + i * perThread];
      }
      const aAt = a + 4 * (transA ? from : from * lda);
      return [+transA, +transB, to - from, N, K, aAt, lda, b, ldb, c + 4 * from * ldc, ldc, +accumulate, scratch + i * perThread];
    };
    const ctl = this.view();
    const generation = (Atomics.load(ctl, GENERATION) + 1) | 0;
    const onMain: number[] = [0];
    let given = 0;
    for (let i = 1; i < this.threads; i++) {
      if (edges[i] === edges[i + 1]) continue;
      if (!this.running[i]) {
        onMain.push(i);
        continue;
      }
      const slot = HEADER_INTS + i * SLOT_INTS;
      const values = args(i);
      for (let j = 0; j < values.length; j++) ctl[slot + 1 + j] = values[j] | 0;
      Atomics.store(ctl, slot, generation);
      given++;
    }
    if (given > 0) {
      Atomics.store(ctl, ERROR, 0);
      Atomics.store(ctl, BUSY, given);
      Atomics.store(ctl, GENERATION, generation);
      Atomics.notify(ctl, GENERATION);
    }
    for (const i of onMain) {
      const [tA, tB, m, n, k, aAt, la, bAt, lb, cAt, lc, acc] = args(i);
      this.kernels.gemm(tA, tB, m, n, k, aAt, la, bAt, lb, cAt, lc, acc, scratch);
    }
    if (given === 0) return;
    this.blocking ??= canBlock(ctl);
    for (;;) {
      const busy = Atomics.load(ctl, BUSY);
      if (busy === 0) break;
      if (this.blocking) Atomics.wait(ctl, BUSY, busy);
    }
    const failed = Atomics.load(ctl, ERROR);
    if (failed !== 0) {
      throw new BackpropError('gemm', `worker ${failed} trapped computing its block of C (${M}×${N}, K=${K}): a pointer or stride outside the memory`);
    }
  }

  /** Stops the workers; later gemm calls run on the main thread alone. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    if (this.threads > 1 && isShared(this.memory)) {
      const ctl = this.view();
      Atomics.store(ctl, SHUTDOWN, 1);
      Atomics.add(ctl, GENERATION, 1);
      Atomics.notify(ctl, GENERATION);
    }
    for (const worker of this.workers) void worker?.terminate();
    this.running.fill(false, 1);
  }
}
