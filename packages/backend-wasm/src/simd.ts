/**
 * Feature detection: the kernels are compiled with 128-bit SIMD, so an engine without it
 * (Node < 16.4, Safari < 16.4) cannot even compile the module. The plugin checks first and
 * throws a clear WasmSupportError instead of a CompileError from deep inside.
 */
import { WasmSupportError } from './errors.js';

/**
 * The smallest module using SIMD: one function returning `v128.const 0`.
 * (type () → v128; body: no locals, 0xfd 0x0c + 16 zero bytes, end.)
 */
export const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () → v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: v128.const …
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

/** Why the wasm backend cannot run here (no WebAssembly, or `probe` — SIMD by default — does not validate), or null. */
export function whyWasmUnavailable(probe: Uint8Array = SIMD_PROBE): string | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined || typeof wasm.validate !== 'function') return 'WebAssembly is not available in this JavaScript engine';
  let valid = false;
  try {
    valid = wasm.validate(probe as BufferSource);
  } catch {
    valid = false;
  }
  return valid
    ? null
    : 'this engine does not support WebAssembly 128-bit SIMD (fixed-width SIMD ships in Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4)';
}

/** Throws WasmSupportError naming what is missing when the wasm backend cannot run here. */
export function assertWasmSupported(probe: Uint8Array = SIMD_PROBE): void {
  const why = whyWasmUnavailable(probe);
  if (why !== null) throw new WasmSupportError('@backprop/backend-wasm', why);
}
