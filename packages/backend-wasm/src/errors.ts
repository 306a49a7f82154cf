import { BackpropError } from '@backprop/tensor';

/** The wasm backend's linear memory cannot hold a tensor (or a kernel's scratch) within its limit. */
export class WasmMemoryError extends BackpropError {
  override readonly name = 'WasmMemoryError';
}

/** This JavaScript engine lacks something the wasm backend needs (WebAssembly, 128-bit SIMD). */
export class WasmSupportError extends BackpropError {
  override readonly name = 'WasmSupportError';
}

/** A kernel of the wasm backend got a tensor of a dtype it does not compute in (float32 only). */
export class WasmDtypeError extends BackpropError {
  override readonly name = 'WasmDtypeError';
}
