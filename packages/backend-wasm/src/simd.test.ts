import { describe, expect, it } from 'vitest';
import { Registry } from '@backprop/tensor';
import { WasmSupportError, assertWasmSupported, wasmBackend, whyWasmUnavailable } from './index.js';
import { SIMD_PROBE } from './simd.js';

describe('WebAssembly SIMD detection', () => {
  it('accepts this engine (Node 20 has fixed-width SIMD) and installs the plugin', () => {
    expect(WebAssembly.validate(SIMD_PROBE as BufferSource)).toBe(true);
    expect(whyWasmUnavailable()).toBeNull();
    expect(() => new Registry().use(wasmBackend)).not.toThrow();
  });

  it('rejects a probe the engine does not validate, naming SIMD', () => {
    // The probe with its v128.const replaced by a SIMD opcode no engine defines (prefix 0xfd, LEB128 opcode 0x3fff).
    const unknownOpcode = Uint8Array.from(SIMD_PROBE);
    unknownOpcode.set([0xff, 0x7f], 25); // after the 0xfd prefix at byte 24
    expect(WebAssembly.validate(unknownOpcode as BufferSource)).toBe(false);
    expect(whyWasmUnavailable(unknownOpcode)).toMatch(/does not support WebAssembly 128-bit SIMD/);
    expect(() => assertWasmSupported(unknownOpcode)).toThrow(WasmSupportError);
    expect(() => assertWasmSupported(unknownOpcode)).toThrow(/@backprop\/backend-wasm: this engine does not support WebAssembly 128-bit SIMD/);
  });
});
