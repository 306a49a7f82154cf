import { readFileSync } from 'node:fs';
import { BackpropError } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { wasmBuildInfo, wasmBytes, wasmThreadsBytes } from './index.js';

describe('wasmBuildInfo', () => {
  it('reports the features asconfig.json compiles the kernels with', () => {
    const config = JSON.parse(readFileSync(new URL('../asconfig.json', import.meta.url), 'utf8')) as { options: { enable?: string[] } };
    const enabled = config.options.enable ?? [];
    const info = wasmBuildInfo();
    expect(enabled).toContain('simd');
    expect(info.simd).toBe(true);
    expect(info.relaxedSimd).toBe(enabled.includes('relaxed-simd'));
  });

  it('reports the embedded module and the default thread count', () => {
    const info = wasmBuildInfo();
    const bytes = wasmBytes();
    expect(info.moduleBytes).toBe(bytes.length);
    // The wasm magic number: the embedded bytes are a module.
    expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
    expect(info.threads).toBe(1);
    expect(info.warnings).toEqual([]);
  });

  it('reports the threads build for options asking for threads (what a backend runs: threads/backend-threads.test.ts)', () => {
    expect(wasmBuildInfo({ threads: 2 })).toMatchObject({ threads: 2, moduleBytes: wasmThreadsBytes().length, warnings: [] });
  });

  it('checks the options as the plugin does', () => {
    expect(() => wasmBuildInfo({ maxMemoryBytes: 12 })).toThrow(BackpropError);
    expect(() => wasmBuildInfo({ maxMemoryBytes: 12 })).toThrow(/maxMemoryBytes/);
  });
});
