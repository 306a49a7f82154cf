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
import { WASM_BASE64 } from '../generated/wasmBinary.js';
import type { WasmExports } from './exports.js';

let compiled: WebAssembly.Module | null = null;
let pending: Promise<WebAssembly.Module> | null = null;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The kernels' bytes (a fresh copy). */
export function wasmBytes(): Uint8Array {
  return decodeBase64(WASM_BASE64);
}

/** Compiles the kernels asynchronously (once); later backends instantiate without compiling. */
export function compileWasmKernels(): Promise<WebAssembly.Module> {
  if (compiled !== null) return Promise.resolve(compiled);
  pending ??= WebAssembly.compile(wasmBytes() as BufferSource).then((m) => (compiled = m));
  return pending;
}

/** The compiled module, compiling it synchronously on first use. */
export function wasmModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(wasmBytes() as BufferSource);
  return compiled;
}

/** A new instance of the kernels working on `memory`. */
export function instantiate(memory: WebAssembly.Memory): WasmExports {
  const instance = new WebAssembly.Instance(wasmModule(), { env: { memory } });
  return instance.exports as unknown as WasmExports;
}
