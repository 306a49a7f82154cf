/**
 * The compiled kernels. The bytes are embedded in the JavaScript as base64 (generated at
 * build time from assembly/): no file to locate next to the bundle, no fetch, nothing for a
 * bundler to miss, and they are there synchronously, which the registry needs (backend
 * factories are synchronous). The cost is ~⅓ more bytes than the raw .wasm (also shipped as
 * dist/backend.wasm for those who load it themselves).
 *
 * Compiling is synchronous on first use. Browsers limit synchronous compilation on the main
 * thread, so there `await compileWasmKernels()` once before `use(wasmBackend)`.
 */
import { WASM_BASE64, WASM_THREADS_BASE64 } from '../generated/wasmBinary.js';
import { WasmSupportError } from './errors.js';
import type { WasmExports } from './exports.js';
import { whyWasmUnavailable } from './simd.js';

let compiled: WebAssembly.Module | null = null;
let pending: Promise<WebAssembly.Module> | null = null;
let compiledThreads: WebAssembly.Module | null = null;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * What an engine's refusal to compile the kernels means, as a WasmSupportError: no SIMD (or no
 * WebAssembly) when the probe says so, else the engine's own reason; `sync` adds that browsers
 * refuse synchronous compilation of modules this size on the main thread.
 */
function compileFailure(error: unknown, sync: boolean): WasmSupportError {
  const where = '@backprop/backend-wasm';
  const why = whyWasmUnavailable();
  if (why !== null) return new WasmSupportError(where, why);
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new WasmSupportError(
    where,
    sync
      ? `this engine refused to compile the kernels synchronously (${detail}); browsers allow only small modules to compile synchronously on the main thread: await compileWasmKernels() once before creating a wasm backend`
      : `this engine could not compile the kernels (${detail})`,
  );
}

/** The kernels' bytes (a fresh copy). */
export function wasmBytes(): Uint8Array {
  return decodeBase64(WASM_BASE64);
}

/** Bytes that base64 `text` decodes to, from its length and padding alone. */
function decodedLength(text: string): number {
  return (text.length / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
}

/** Sizes of the two builds in bytes (wasmBytes().length and wasmThreadsBytes().length, without decoding them). */
export const WASM_BYTE_LENGTH = decodedLength(WASM_BASE64);
export const WASM_THREADS_BYTE_LENGTH = decodedLength(WASM_THREADS_BASE64);

/** The bytes of the kernels built for threads (`--sharedMemory`: they import a shared memory). */
export function wasmThreadsBytes(): Uint8Array {
  return decodeBase64(WASM_THREADS_BASE64);
}

/**
 * Compiles the kernels asynchronously (once), both builds (the threads build for backends with
 * threads > 1; an engine that cannot compile it leaves those backends on one thread, with a
 * warning); later backends instantiate without compiling. An engine that cannot compile the
 * kernels (no SIMD) rejects with WasmSupportError, and a later call tries again.
 */
export function compileWasmKernels(): Promise<WebAssembly.Module> {
  if (compiled !== null && compiledThreads !== null) return Promise.resolve(compiled);
  pending ??= Promise.all([
    WebAssembly.compile(wasmBytes() as BufferSource).then((m) => (compiled = m)),
    WebAssembly.compile(wasmThreadsBytes() as BufferSource).then(
      (m) => void (compiledThreads = m),
      () => undefined,
    ),
  ]).then(
    ([m]) => m,
    (error: unknown) => {
      pending = null;
      throw compileFailure(error, false);
    },
  );
  return pending;
}

/** `bytes` compiled synchronously; an engine that refuses throws WasmSupportError. */
function compileSync(bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as BufferSource);
  } catch (error) {
    throw compileFailure(error, true);
  }
}

/** The compiled module, compiling it synchronously on first use (WasmSupportError where the engine refuses). */
export function wasmModule(): WebAssembly.Module {
  compiled ??= compileSync(wasmBytes());
  return compiled;
}

/** The threads build, compiled synchronously on first use (a backend with threads > 1 only). */
export function wasmThreadsModule(): WebAssembly.Module {
  compiledThreads ??= compileSync(wasmThreadsBytes());
  return compiledThreads;
}

/** A new instance of `module` (the single-thread build by default) working on `memory`. */
export function instantiate(memory: WebAssembly.Memory, module = wasmModule()): WasmExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as WasmExports;
}
