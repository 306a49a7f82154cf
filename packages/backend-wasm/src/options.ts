/** What a wasm backend can be told when it is created (`wasmBackendWithOptions`, `createWasmBackend`). */
import { checkNumberInRange, checkOptions, checkPositiveInt } from '@backprop/tensor';

export interface WasmBackendOptions {
  /**
   * Threads the kernels run on, the calling thread included (default 1, at most MAX_THREADS).
   * Above 1 the backend uses the kernels built for a shared memory and starts threads − 1
   * workers (worker_threads in Node, Web Workers in browsers, which need a cross-origin isolated
   * page). Results are bit-identical to one thread. Workers that cannot start are reported
   * (`WasmBackend.threadWarnings`, `wasmBuildInfo(backend)`) and their work runs on the calling
   * thread.
   */
  threads?: number;
  /**
   * The most linear memory the backend may use, in bytes (default and upper bound 4 GiB, the
   * wasm32 limit; rounded down to 64 KiB pages). Past it, allocating a tensor throws
   * WasmMemoryError.
   */
  maxMemoryBytes?: number;
  /** Linear memory reserved at start, in bytes (default 16 MiB; grows on demand). */
  initialMemoryBytes?: number;
}

export const WASM_PAGE_BYTES = 65536;
/** The most threads a backend may be asked for. */
export const MAX_THREADS = 64;
/** 65536 pages: all a 32-bit pointer can address. */
export const MAX_MEMORY_BYTES = 65536 * WASM_PAGE_BYTES;
const DEFAULT_INITIAL_BYTES = 16 * 1024 * 1024;

export interface ResolvedWasmOptions {
  threads: number;
  maxPages: number;
  initialPages: number;
}

/** Checks the options (throws BackpropError naming the bad one) and fills in the defaults. */
export function resolveWasmOptions(options: WasmBackendOptions = {}): ResolvedWasmOptions {
  const where = 'wasmBackendWithOptions';
  checkOptions(where, options, ['threads', 'maxMemoryBytes', 'initialMemoryBytes']);
  const { threads = 1, maxMemoryBytes = MAX_MEMORY_BYTES, initialMemoryBytes = DEFAULT_INITIAL_BYTES } = options;
  checkPositiveInt(where, 'threads', threads, MAX_THREADS);
  // From one page to all a 32-bit pointer addresses.
  const bytes = (name: string, value: unknown): number =>
    Math.floor(checkNumberInRange(where, name, value, { min: WASM_PAGE_BYTES, max: MAX_MEMORY_BYTES }) / WASM_PAGE_BYTES);
  const maxPages = bytes('maxMemoryBytes', maxMemoryBytes);
  const initialPages = Math.min(bytes('initialMemoryBytes', initialMemoryBytes), maxPages);
  return { threads, maxPages, initialPages };
}
