// The BUILT package (dist/, from `pnpm build`) must behave like src: the module is embedded in
// dist/index.js as base64 by the build, and dist/backend.wasm ships beside it.
// `pnpm test` at the root builds first; run `pnpm --filter @backprop/backend-wasm build` before running this file alone.
import { spawnSync } from 'node:child_process';
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

  it('embeds the threads build it ships as dist/backend-threads.wasm: same exports, a shared memory import', () => {
    const shipped = readFileSync(new URL('../dist/backend-threads.wasm', import.meta.url));
    expect(Buffer.from(dist.wasmThreadsBytes()).equals(shipped)).toBe(true);
    const module = new WebAssembly.Module(shipped);
    const single = new WebAssembly.Module(dist.wasmBytes());
    expect(WebAssembly.Module.exports(module)).toEqual(WebAssembly.Module.exports(single));
    const memory = (shared: boolean) => new WebAssembly.Memory({ initial: 1, maximum: 16, shared });
    expect(() => new WebAssembly.Instance(module, { env: { memory: memory(true) } })).not.toThrow();
    expect(() => new WebAssembly.Instance(module, { env: { memory: memory(false) } })).toThrow(/shared/);
  });

  it('runs the dist on 2 threads: a product big enough to split, as on one thread', async () => {
    const { Registry, matMul, tensor } = await import('@backprop/tensor');
    const results: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const registry = new Registry().use(dist.wasmBackendWithOptions({ threads }));
      const backend = registry.setBackend('wasm') as InstanceType<typeof dist.WasmBackend>;
      await expect(backend.threadsReady).resolves.toEqual({ threads, warnings: [] });
      const a = tensor(Float32Array.from({ length: 128 * 256 }, (_, i) => Math.sin(i)), [128, 256], { registry });
      const b = tensor(Float32Array.from({ length: 256 * 160 }, (_, i) => Math.cos(i)), [256, 160], { registry });
      results.push(matMul(a, b).dataSync() as Float32Array);
      registry.removeBackend('wasm');
    }
    expect(Array.from(results[1])).toEqual(Array.from(results[0]));
  });

  it('a process with a backend on threads exits by itself (the workers do not keep it alive)', () => {
    const script = `import { createWasmBackend } from ${JSON.stringify(distFile)};
      const backend = createWasmBackend({ threads: 2 });
      const { threads } = await backend.threadsReady;
      console.log('threads', threads);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.signal, 'killed by the timeout: the process did not exit').toBeNull();
    expect(run.stdout.trim()).toBe('threads 2');
    expect(run.status).toBe(0);
  });
});
