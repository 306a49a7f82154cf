/**
 * Threads for the wasm backend (`wasmBackendWithOptions({ threads: n })`): a pool of workers
 * that call the kernels' exports on one shared memory.
 *
 * Design
 * - One WebAssembly.Memory, shared: the kernels built with `--sharedMemory --enable threads`
 *   (generated/backend-threads.wasm; their memory import is `shared`, with a maximum). The main
 *   thread's instance and one instance in each of threads − 1 workers (worker_threads in Node,
 *   Web Workers in browsers) import it, so tensors never move; a worker only needs the compiled
 *   module, the memory and where the control block is.
 * - A job gives each thread at most one call of an export (by name) with its arguments. The
 *   backend's kernels cut their work so that each call computes a disjoint part of the output
 *   exactly as one call would (a gemm's blocks of C, a conv's sub-batch of images, a pool's
 *   planes, fixed chunks of a sum over images added in chunk order afterwards): results are
 *   bit-identical whichever thread computes which part. That is what makes every fallback below
 *   safe. `gemm` cuts a product into `threads` blocks of C's columns (whole 16-column
 *   micro-tiles), or of its rows when C has too few columns; assembly/gemm.ts computes every
 *   element of C the same way whatever block it is in ("Summation order" there).
 * - Hand-off through a control block in the shared memory: a header of Int32s (job generation,
 *   count of workers still busy, error flag, shutdown flag), then per thread a slot with the
 *   generation it was given work for, the export's index and argument count (Int32s) and the
 *   arguments (Float64s: pointers, sizes and float attributes alike). Workers sleep in
 *   Atomics.wait on the generation; the main thread writes the slots, bumps the generation,
 *   notifies, runs its own call, then waits for the busy count to reach 0 (Atomics.wait where
 *   the engine allows it — Node, workers — and a spin on Atomics.load on a browser's main
 *   thread, where waiting is forbidden).
 * - Workers start asynchronously. Until one reports ready, its call runs on the main thread, so
 *   the pool is usable (and its results identical) from the first call. A worker that cannot
 *   start — no shared memory (a browser page without cross-origin isolation), no Worker, the
 *   module failing to instantiate, an error event, no answer within startTimeoutMs — is recorded
 *   with its reason in `failures`; `ready` resolves with them, and its calls stay on the main
 *   thread for good. Nothing throws at creation: a backend asked for threads stays usable on one.
 * - Small jobs run on the main thread alone: waking a worker costs tens of microseconds, the
 *   whole of a per-image conv GEMM (see minParallelFlop and `parts`).
 */
import { BackpropError } from '@backprop/tensor';
import type { WasmExports } from '../exports.js';

/** One call of a module export: its name and arguments (pointers are byte offsets). */
export interface ExportCall {
  fn: string;
  args: number[];
}

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

export interface WasmThreadPoolOptions {
  /** Threads in all, the main thread included (≥ 1). */
  threads: number;
  /** The kernels compiled with a shared memory import; each worker instantiates it. */
  module: WebAssembly.Module;
  /** The shared memory the main thread's instance works on. */
  memory: WebAssembly.Memory;
  /** The main thread's instance (the exports `run` names are called on it when the main thread runs them). */
  kernels: WasmExports;
  /** Byte offset of controlBlockBytes(threads) bytes of the memory, 64-byte aligned, for the pool alone. */
  control: number;
  /** How long a worker may take to report ready before it counts as failed (default 10 s). */
  startTimeoutMs?: number;
  /** Jobs of fewer floating-point operations run on the main thread alone (default 2²¹). */
  minParallelFlop?: number;
}

/** What `ready` resolves to: how many workers run, and why the others do not. */
export interface WasmThreadPoolStatus {
  workers: number;
  failures: string[];
}

/**
 * Where things sit in the control block: a header of Int32s (the GENERATION, BUSY, ERROR and
 * SHUTDOWN flags), then per thread a slot of `slotBytes`: Int32 [generation, export index,
 * argument count, unused], then `maxArgs` Float64 arguments from `argsAt`. The workers get it in
 * their init message, so the numbers are written once, here.
 */
const HEADER_BYTES = 64;
const SLOT_BYTES = 256;
const SLOT_INTS = 4;
const ARGS_AT = 4 * SLOT_INTS;
const GENERATION = 0;
const BUSY = 1;
const ERROR = 2;
const SHUTDOWN = 3;
const LAYOUT = {
  generation: GENERATION,
  busy: BUSY,
  error: ERROR,
  shutdown: SHUTDOWN,
  headerBytes: HEADER_BYTES,
  slotBytes: SLOT_BYTES,
  slotInts: SLOT_INTS,
  argsAt: ARGS_AT,
  maxArgs: (SLOT_BYTES - ARGS_AT) / 8,
};
type ControlLayout = typeof LAYOUT;

/** Bytes of shared memory the pool's control block needs. */
export function controlBlockBytes(threads: number): number {
  return HEADER_BYTES + threads * SLOT_BYTES;
}

/** The module's function exports in a fixed order: the main thread and the workers agree on indices from it. */
function functionExports(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
}

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Whether the memory is shared (SharedArrayBuffer is not even defined on a page that is not cross-origin isolated). */
const isShared = (memory: WebAssembly.Memory): boolean => typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;

/**
 * The worker's whole program, sent as source text (so no separate file has to be found next to a
 * bundle): instantiate the module on the shared memory, report ready, then serve jobs until the
 * shutdown flag. Self-contained on purpose — it is stringified, nothing outside it exists there:
 * even the control block's layout comes in `init`.
 */
function poolWorkerProgram(
  init: { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; layout: ControlLayout; index: number; threads: number; names: string[] },
  post: (message: { type: 'ready' } | { type: 'failed'; reason: string }) => void,
): void {
  let fns: ((...args: number[]) => unknown)[];
  try {
    if (typeof SharedArrayBuffer !== 'function' || !(init.memory.buffer instanceof SharedArrayBuffer)) throw new Error('the memory is not shared');
    const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    fns = init.names.map((name) => instance.exports[name] as (...args: number[]) => unknown);
    if (fns.some((fn) => typeof fn !== 'function')) throw new Error('the module lacks an export the pool calls');
  } catch (error) {
    post({ type: 'failed', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    return;
  }
  const { layout } = init;
  const ctl = new Int32Array(init.memory.buffer, init.control, layout.headerBytes / 4);
  const at = init.control + layout.headerBytes + init.index * layout.slotBytes;
  const slot = new Int32Array(init.memory.buffer, at, layout.slotInts);
  const args = new Float64Array(init.memory.buffer, at + layout.argsAt, layout.maxArgs);
  // Read before reporting ready: any job given to this worker comes after, with a newer generation.
  let seen = Atomics.load(ctl, layout.generation);
  post({ type: 'ready' });
  for (;;) {
    Atomics.wait(ctl, layout.generation, seen);
    const generation = Atomics.load(ctl, layout.generation);
    if (generation === seen) continue;
    seen = generation;
    if (Atomics.load(ctl, layout.shutdown) !== 0) return;
    if (Atomics.load(slot, 0) !== generation) continue; // a job without a call for this worker
    try {
      fns[slot[1]](...args.subarray(0, slot[2]));
    } catch {
      Atomics.store(ctl, layout.error, init.index);
    }
    if (Atomics.sub(ctl, layout.busy, 1) === 1) Atomics.notify(ctl, layout.busy);
  }
}

/** Minimal common face of a Node worker_threads Worker and a browser Worker. */
interface StartedWorker {
  postMessage(message: unknown): void;
  /** Stops the worker; resolves once its thread has exited (a browser's terminate() is final at once). */
  terminate(): Promise<void>;
  onMessage(listener: (message: unknown) => void): void;
  onError(listener: (reason: string) => void): void;
}

async function startWorker(): Promise<StartedWorker> {
  const program = `(${poolWorkerProgram.toString()})`;
  if (typeof globalThis.Worker === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function') {
    const source = `self.onmessage = (e) => { self.onmessage = null; ${program}(e.data, (m) => self.postMessage(m)); };`;
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    return {
      postMessage: (m) => worker.postMessage(m),
      terminate: () => {
        worker.terminate();
        return Promise.resolve();
      },
      onMessage: (listener) => worker.addEventListener('message', (e) => listener(e.data)),
      onError: (listener) => worker.addEventListener('error', (e) => listener(e.message || 'worker error event')),
    };
  }
  // Node: worker_threads, loaded lazily so that browser bundles never see it.
  const specifier = 'node:worker_threads';
  const { Worker: NodeWorker } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
  // import() works whether the evaluated source is taken as CommonJS or, when the process runs
  // with --input-type=module (which workers inherit), as an ES module.
  const source = `import('node:worker_threads').then(({ parentPort }) => parentPort.once('message', (init) => ${program}(init, (m) => parentPort.postMessage(m))));`;
  const worker = new NodeWorker(source, { eval: true });
  // Its 'exit' event, whenever it comes (the worker may return on the shutdown flag before terminate()).
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // Workers never keep the process alive. Adding a 'message' listener refs the worker again, so
  // unref after every listener is added.
  worker.unref();
  return {
    postMessage: (m) => worker.postMessage(m),
    terminate: () => {
      void worker.terminate();
      return exit;
    },
    onMessage: (listener) => {
      worker.on('message', listener);
      worker.unref();
    },
    onError: (listener) => {
      worker.on('error', (e) => listener(`${e.name}: ${e.message}`));
      worker.on('exit', (code) => listener(`exited with code ${code}`));
      worker.unref();
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

export class WasmThreadPool {
  readonly threads: number;
  /** Why workers did not start (one line each); empty while all are starting or running. */
  readonly failures: string[] = [];
  /** Resolves once every worker has started or failed. */
  readonly ready: Promise<WasmThreadPoolStatus>;
  private readonly kernels: WasmExports;
  private readonly memory: WebAssembly.Memory;
  private readonly control: number;
  private readonly minParallelFlop: number;
  /** Worker i (1-based; 0 is the main thread) takes blocks only once it reported ready. */
  private readonly started: boolean[];
  private readonly workers: (StartedWorker | null)[];
  private blocking: boolean | null = null;
  private terminated = false;
  private names: string[] = [];
  private index = new Map<string, number>();
  /** Jobs that were given to at least one worker (tests check that work was really split). */
  splitJobs = 0;

  constructor(options: WasmThreadPoolOptions) {
    const where = 'WasmThreadPool';
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
    this.started = new Array<boolean>(threads).fill(false);
    this.started[0] = true;
    this.workers = new Array<StartedWorker | null>(threads).fill(null);
    if (threads === 1) {
      this.ready = Promise.resolve({ workers: 0, failures: [] });
      return;
    }
    if (!isShared(memory)) {
      this.failures.push(
        'the memory is not shared (a shared WebAssembly.Memory needs SharedArrayBuffer: in a browser, a cross-origin isolated page), so the kernels run on one thread',
      );
      this.ready = Promise.resolve({ workers: 0, failures: this.failures });
      return;
    }
    new Uint8Array(this.memory.buffer, this.control, controlBlockBytes(threads)).fill(0);
    this.names = functionExports(module);
    this.index = new Map(this.names.map((name, i) => [name, i]));
    const starts: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) starts.push(this.start(index, module, startTimeoutMs));
    this.ready = Promise.all(starts).then(() => ({ workers: this.started.filter(Boolean).length - 1, failures: this.failures }));
  }

  private view(): Int32Array {
    // A grown shared memory gives a new, longer SharedArrayBuffer; the control block does not move.
    return new Int32Array(this.memory.buffer, this.control, controlBlockBytes(this.threads) / 4);
  }

  /** Threads running now: the main thread and the workers that reported ready. */
  get running(): number {
    return this.started.filter(Boolean).length;
  }

  /**
   * Into how many parts to cut a job of `flop` floating-point operations over `units`
   * independent units (images, planes, chunks): 1 below minParallelFlop, else up to `threads`.
   */
  parts(flop: number, units: number): number {
    if (this.terminated || flop < this.minParallelFlop) return 1;
    return Math.max(1, Math.min(this.threads, units));
  }

  private start(index: number, module: WebAssembly.Module, timeoutMs: number): Promise<void> {
    return new Promise<void>((settle) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failures.push(`worker ${index} did not start: ${reason}; its share of the work runs on the main thread`);
        void this.workers[index]?.terminate();
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
            if (this.terminated || !this.started[index]) return;
            // Died after starting (between jobs: a death during one would leave gemm waiting).
            this.started[index] = false;
            this.failures.push(`worker ${index} stopped: ${reason}; its share of the work runs on the main thread`);
          });
          worker.onMessage((message) => {
            const m = message as { type: string; reason?: string };
            if (m.type === 'failed') return fail(m.reason ?? 'unknown');
            if (m.type !== 'ready' || settled) return;
            settled = true;
            clearTimeout(timer);
            this.started[index] = true;
            settle();
          });
          worker.postMessage({ module, memory: this.memory, control: this.control, layout: LAYOUT, index, threads: this.threads, names: this.names });
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
    const calls: (ExportCall | null)[] = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      const [from, to] = [edges[i], edges[i + 1]];
      if (from === to) {
        calls.push(null);
      } else if (along === 'columns') {
        const bAt = b + 4 * (transB ? from * ldb : from);
        calls.push({ fn: 'gemm', args: [+transA, +transB, M, to - from, K, a, lda, bAt, ldb, c + 4 * from, ldc, +accumulate, scratch + i * perThread] });
      } else {
        const aAt = a + 4 * (transA ? from : from * lda);
        calls.push({ fn: 'gemm', args: [+transA, +transB, to - from, N, K, aAt, lda, b, ldb, c + 4 * from * ldc, ldc, +accumulate, scratch + i * perThread] });
      }
    }
    this.run(calls, 'gemm', ` computing its block of C (${M}×${N}, K=${K}): a pointer or stride outside the memory`);
  }

  /**
   * Runs call i on thread i (0: the main thread) and returns when all are done; a call for a
   * worker that is not running runs on the main thread, after call 0. Null entries are skipped.
   * The calls must write disjoint memory. Throws BackpropError when a worker's call trapped
   * (after all the others have finished), `where` and `what` saying which kernel and what it
   * was computing; a trap on the main thread propagates as it is.
   */
  run(calls: readonly (ExportCall | null)[], where: string, what = ''): void {
    if (calls.length > this.threads) throw new BackpropError('WasmThreadPool.run', `${calls.length} calls for ${this.threads} threads`);
    const onMain: ExportCall[] = [];
    if (calls[0]) onMain.push(calls[0]);
    const ctl = this.view();
    const generation = (Atomics.load(ctl, GENERATION) + 1) | 0;
    let given = 0;
    for (let i = 1; i < calls.length; i++) {
      const call = calls[i];
      if (!call) continue;
      if (!this.started[i] || this.terminated) {
        onMain.push(call);
        continue;
      }
      const fn = this.index.get(call.fn);
      if (fn === undefined || call.args.length > LAYOUT.maxArgs) {
        throw new BackpropError('WasmThreadPool.run', `cannot hand '${call.fn}' with ${call.args.length} arguments to a worker`);
      }
      const at = this.control + HEADER_BYTES + i * SLOT_BYTES;
      const slot = new Int32Array(this.memory.buffer, at, LAYOUT.slotInts);
      slot[1] = fn;
      slot[2] = call.args.length;
      new Float64Array(this.memory.buffer, at + LAYOUT.argsAt, call.args.length).set(call.args);
      Atomics.store(slot, 0, generation);
      given++;
    }
    if (given > 0) {
      this.splitJobs++;
      Atomics.store(ctl, ERROR, 0);
      Atomics.store(ctl, BUSY, given);
      Atomics.store(ctl, GENERATION, generation);
      Atomics.notify(ctl, GENERATION);
    }
    try {
      const kernels = this.kernels as unknown as Record<string, (...args: number[]) => unknown>;
      for (const call of onMain) kernels[call.fn](...call.args);
    } finally {
      // Even when the main thread's call trapped, the workers still write into this job's memory: wait for them.
      if (given > 0) this.waitForWorkers(ctl);
    }
    if (given === 0) return;
    const failed = Atomics.load(ctl, ERROR);
    if (failed !== 0) throw new BackpropError(where, `worker ${failed} trapped${what}`);
  }

  private waitForWorkers(ctl: Int32Array): void {
    this.blocking ??= canBlock(ctl);
    for (;;) {
      const busy = Atomics.load(ctl, BUSY);
      if (busy === 0) break;
      if (this.blocking) Atomics.wait(ctl, BUSY, busy);
    }
  }

  private resolveExited: (workers: number) => void = () => undefined;
  /**
   * Resolves, once terminate() was called and the thread of every worker created has
   * exited ('exit' events in Node), to how many exited. Pending until terminate().
   */
  readonly exited: Promise<number> = new Promise<number>((resolve) => (this.resolveExited = resolve));

  /** Stops the workers; later calls run on the main thread alone. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    if (this.threads > 1 && isShared(this.memory)) {
      const ctl = this.view();
      Atomics.store(ctl, SHUTDOWN, 1);
      Atomics.add(ctl, GENERATION, 1);
      Atomics.notify(ctl, GENERATION);
    }
    const workers = this.workers.filter((worker) => worker !== null);
    void Promise.all(workers.map((worker) => worker.terminate())).then(() => this.resolveExited(workers.length));
    this.started.fill(false, 1);
  }
}
