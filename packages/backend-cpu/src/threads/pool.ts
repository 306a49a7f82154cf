/**
 * A pool of worker_threads Workers for the synchronous CPU kernels (Node only).
 *
 * Kernels must return immediately (the Backend interface is synchronous), so a job is run
 * like this: the main thread posts the job (name + args; the typed arrays live on
 * SharedArrayBuffers, so posting shares them instead of copying) to every worker, bumps
 * the WAKE word and notifies; then everybody — main thread included — claims chunks from
 * one shared counter until none are left, and the main thread `Atomics.wait`s until every
 * chunk is done. Claiming dynamically matters on a shared machine: if a worker is slow to
 * wake (its core is busy) the main thread simply computes more of the chunks itself.
 *
 * The claim word packs (job id << 16 | next chunk) and is advanced with compare-exchange,
 * so a worker that wakes late, after its job finished, cannot take a chunk of a newer job
 * (the id no longer matches) — the main thread never waits for an idle worker.
 *
 * Workers are unref()ed (they never keep the process alive) and block in Atomics.wait
 * between jobs, which costs no CPU; `dispose()` tells them to quit and terminates them.
 *
 * Nothing here imports a Node module statically: worker_threads is obtained through
 * `process.getBuiltinModule` (Node ≥ 20.16) when the backend is created, and anything
 * missing (a browser, no SharedArrayBuffer, an older Node, a worker that fails to start)
 * gives `null`: the backend then runs single-threaded.
 */
import type { Scratch } from '../scratch.js';
import { jobs, type JobArgs, type JobName } from './jobs.js';

/** Int32 slots of the control block. */
export const WAKE = 0; // bumped once per job; workers wait on it
export const CLAIM = 1; // (job id << 16) | next unclaimed chunk
export const DONE = 2; // chunks finished for the current job
export const FAILED = 3; // set by a worker whose chunk threw
export const CONTROL_INTS = 4;

const ID_MASK = 0x7fff;
export const MAX_CHUNKS = 0xffff;

/** Claims the next chunk of job `id` (< chunks), or -1 when none is left or the job is over. */
export function claim(ctrl: Int32Array, id: number, chunks: number): number {
  for (;;) {
    const v = Atomics.load(ctrl, CLAIM);
    const next = v & 0xffff;
    if (v >>> 16 !== id || next >= chunks) return -1;
    if (Atomics.compareExchange(ctrl, CLAIM, v, v + 1) === v) return next;
  }
}

/** A job message: what the worker runs. `quit` ends its loop. */
export interface JobMessage {
  id: number;
  job: JobName;
  args: unknown;
  chunks: number;
  quit?: boolean;
}

interface WorkerLike {
  unref(): void;
  terminate(): unknown;
  on(event: 'error' | 'exit', fn: (e: unknown) => void): unknown;
}
interface PortLike {
  postMessage(msg: unknown): void;
  unref?(): void;
  close(): void;
}
interface WorkerThreadsModule {
  Worker: new (url: URL | string, options: object) => WorkerLike;
  MessageChannel: new () => { port1: PortLike; port2: unknown };
}

/** worker_threads if this is Node with SharedArrayBuffer and Atomics.wait; else null. */
function workerThreads(): WorkerThreadsModule | null {
  try {
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return null;
    const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
    if (proc?.versions?.node === undefined || typeof proc.getBuiltinModule !== 'function') return null;
    return (proc.getBuiltinModule('node:worker_threads') as WorkerThreadsModule | undefined) ?? null;
  } catch {
    return null;
  }
}

/** The built worker next to this module (dist/worker.js). */
function defaultWorkerUrl(): URL | null {
  try {
    const url = new URL('./worker.js', import.meta.url);
    // From the TypeScript sources (tests) there is no worker.js: the caller passes workerUrl.
    return import.meta.url.endsWith('.ts') ? null : url;
  } catch {
    return null;
  }
}

export interface ThreadPoolOptions {
  /** Workers to start: total threads − 1 (the main thread computes a share too). */
  workers: number;
  /** Where the worker script is; defaults to worker.js next to this module (the built dist). */
  workerUrl?: URL | string;
}

export class ThreadPool {
  /** Threads that compute a job: the workers plus the main thread. */
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private nextId = 0;
  private disposed = false;
  /** Workers that have not exited (updated when the event loop runs). */
  private live: number;

  private constructor(
    private readonly workers: WorkerLike[],
    private readonly ports: PortLike[],
    ctrl: Int32Array,
  ) {
    this.ctrl = ctrl;
    this.threads = workers.length + 1;
    this.live = workers.length;
  }

  /** Starts the workers, or returns null where threads are unavailable (see the module comment). */
  static create(options: ThreadPoolOptions): ThreadPool | null {
    if (options.workers < 1) return null;
    const wt = workerThreads();
    const url = options.workerUrl ?? defaultWorkerUrl();
    if (wt === null || url === null) return null;
    const ctrl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    const workers: WorkerLike[] = [];
    const ports: PortLike[] = [];
    let pool: ThreadPool | undefined;
    try {
      for (let i = 0; i < options.workers; i++) {
        const { port1, port2 } = new wt.MessageChannel();
        const w = new wt.Worker(url, { workerData: { ctrl, port: port2 }, transferList: [port2] });
        // A worker that fails to load or dies never claims chunks: the main thread computes
        // them. Once none is left, jobs stop being posted at all (see `live`).
        w.on('error', () => {});
        w.on('exit', () => pool && pool.live--);
        w.unref();
        port1.unref?.();
        workers.push(w);
        ports.push(port1);
      }
    } catch {
      for (const w of workers) void w.terminate();
      return null;
    }
    pool = new ThreadPool(workers, ports, ctrl);
    return pool;
  }

  /**
   * Runs `job` split into `chunks` shares over all threads and returns when every share is
   * done. `scratch` is the main thread's scratch provider.
   */
  run<N extends JobName>(job: N, args: JobArgs<N>, chunks: number, scratch: Scratch): void {
    const fn = jobs[job] as (s: Scratch, a: JobArgs<N>, chunk: number, chunks: number) => void;
    if (this.disposed || this.live <= 0 || chunks < 2) {
      for (let q = 0; q < chunks; q++) fn(scratch, args, q, chunks);
      return;
    }
    if (chunks > MAX_CHUNKS) throw new Error(`cpu threads: too many chunks (${chunks})`);
    const ctrl = this.ctrl;
    const id = (this.nextId = (this.nextId + 1) & ID_MASK);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, FAILED, 0);
    Atomics.store(ctrl, CLAIM, id << 16);
    const msg: JobMessage = { id, job, args, chunks };
    for (const p of this.ports) p.postMessage(msg);
    Atomics.add(ctrl, WAKE, 1);
    Atomics.notify(ctrl, WAKE);
    let q: number;
    while ((q = claim(ctrl, id, chunks)) >= 0) {
      fn(scratch, args, q, chunks);
      Atomics.add(ctrl, DONE, 1);
    }
    // Wait for the chunks workers are still computing.
    for (;;) {
      const done = Atomics.load(ctrl, DONE);
      if (done >= chunks) break;
      Atomics.wait(ctrl, DONE, done);
    }
    if (Atomics.load(ctrl, FAILED) !== 0) throw new Error(`cpu threads: a worker failed in job '${job}'`);
  }

  /** Tells the workers to quit and terminates them; later jobs run on the main thread. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const msg: JobMessage = { id: -1, job: 'gemm', args: null, chunks: 0, quit: true };
    for (const p of this.ports) p.postMessage(msg);
    Atomics.add(this.ctrl, WAKE, 1);
    Atomics.notify(this.ctrl, WAKE);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
  }
}
