// The BUILT package (dist/, from `pnpm build`) must behave like src: the module is embedded in
// dist/index.js as base64 by the build, and dist/backend.wasm ships beside it.
// `pnpm test` at the root builds first; run `pnpm --filter @backprop/backend-wasm build` before running this file alone.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@backprop/tensor/testing';
import { describe, expect, it } from 'vitest';

const distFile = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(distFile)) throw new Error(`${distFile} is missing: build the package first (pnpm --filter @backprop/backend-wasm build)`);
const dist = (await import('../dist/index.js')) as typeof import('../src/index.js');

describeBackendConformance('backend-wasm dist', dist.wasmBackend, { backendName: 'wasm', dtypes: ['float32'] });

describe('backend-wasm dist files', () => {
  it('embeds the same module it ships as dist/backend.wasm, which imports only the memory', () => {
    const shipped = readFileSync(new URL('../dist/backend.wasm', import.meta.url));
    expect(Buffer.from(dist.wasmBytes()).equals(shipped)).toBe(true);
    const module = new WebAssembly.Module(shipped);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(expect.arrayContaining(['gemm', 'gemmScratchBytes', 'conv2d_f32', 'heapBase']));
  });
});
