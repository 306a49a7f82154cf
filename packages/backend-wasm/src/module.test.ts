// An engine that cannot compile the kernels, emulated by replacing WebAssembly's compilers (and,
// for an engine without SIMD, its validate): compileWasmKernels rejects, and the synchronous
// compile throws, a WasmSupportError saying why — never the engine's raw CompileError or
// RangeError — and a failed compile is not cached. Each test imports a fresh module.ts (its
// compiled modules are module state).
import { afterEach, describe, expect, it, vi } from 'vitest';

type ModuleTs = typeof import('./module.js') & { WasmSupportError: typeof import('./errors.js').WasmSupportError };
/** module.ts afresh, with the WasmSupportError class of the same module graph. */
async function freshModuleTs(): Promise<ModuleTs> {
  vi.resetModules();
  return { ...(await import('./module.js')), WasmSupportError: (await import('./errors.js')).WasmSupportError };
}

const originalModule = WebAssembly.Module;
afterEach(() => {
  vi.restoreAllMocks();
  (WebAssembly as { Module: unknown }).Module = originalModule;
});

/** What `fn` threw (or the rejection of what it returned). */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('it did not fail');
}

describe('compiling the kernels where the engine cannot', () => {
  it('compileWasmKernels on an engine without SIMD rejects with WasmSupportError naming SIMD, and tries again later', async () => {
    const { compileWasmKernels, WasmSupportError } = await freshModuleTs();
    vi.spyOn(WebAssembly, 'compile').mockRejectedValue(new WebAssembly.CompileError('invalid opcode 0xfd0c'));
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const error = await failure(compileWasmKernels);
    expect(error).toBeInstanceOf(WasmSupportError);
    expect((error as Error).message).toMatch(/^@backprop\/backend-wasm: this engine does not support WebAssembly 128-bit SIMD/);
    // Not cached: once the engine compiles, the same call resolves to the module.
    vi.restoreAllMocks();
    await expect(compileWasmKernels()).resolves.toBeInstanceOf(WebAssembly.Module);
  });

  it('compileWasmKernels failing for another reason rejects with WasmSupportError carrying the engine\'s', async () => {
    const { compileWasmKernels, WasmSupportError } = await freshModuleTs();
    vi.spyOn(WebAssembly, 'compile').mockRejectedValue(new RangeError('out of executable memory'));
    const error = await failure(compileWasmKernels);
    expect(error).toBeInstanceOf(WasmSupportError);
    expect((error as Error).message).toBe('@backprop/backend-wasm: this engine could not compile the kernels (RangeError: out of executable memory)');
  });

  it('an engine refusing synchronous compilation (a browser\'s main thread) throws WasmSupportError saying to await compileWasmKernels() first', async () => {
    const { wasmModule, compileWasmKernels, WasmSupportError } = await freshModuleTs();
    (WebAssembly as { Module: unknown }).Module = function refuse() {
      throw new RangeError('WebAssembly.Module(): Buffer size is larger than 8 MB. Use WebAssembly.compile, or compile on a worker thread.');
    };
    const error = await failure(wasmModule);
    expect(error).toBeInstanceOf(WasmSupportError);
    expect((error as Error).message).toMatch(
      /^@backprop\/backend-wasm: this engine refused to compile the kernels synchronously \(RangeError: WebAssembly\.Module\(\): Buffer size .*\); .*await compileWasmKernels\(\) once before creating a wasm backend$/,
    );
    // As it says: compiled asynchronously first, the module is there without a synchronous compile.
    const compiled = await compileWasmKernels();
    expect(wasmModule()).toBe(compiled);
  });

  it('the same refusal reaches whoever creates a backend as a WasmSupportError', async () => {
    vi.resetModules();
    const { createWasmBackend } = await import('./plugin.js');
    const { WasmSupportError: FreshError } = await import('./errors.js');
    (WebAssembly as { Module: unknown }).Module = function refuse() {
      throw new RangeError('WebAssembly.Module(): Wasm code generation disallowed by embedder');
    };
    expect(() => createWasmBackend()).toThrow(FreshError);
    expect(() => createWasmBackend()).toThrow(/refused to compile the kernels synchronously/);
  });
});

describe('which build a backend compiles', () => {
  it('a backend on threads compiles only the threads build; one thread only the single-thread build', async () => {
    vi.resetModules();
    const { createWasmBackend } = await import('./plugin.js');
    const { wasmBytes, wasmThreadsBytes } = await import('./module.js');
    const compiled: Buffer[] = [];
    (WebAssembly as { Module: unknown }).Module = new Proxy(originalModule, {
      construct(target, args: [Uint8Array]) {
        compiled.push(Buffer.from(args[0]));
        return Reflect.construct(target, args) as object;
      },
    });
    expect(wasmBytes().length).toBeGreaterThan(0);
    expect(Buffer.from(wasmThreadsBytes()).equals(Buffer.from(wasmBytes())), 'the two builds differ').toBe(false);
    const threaded = createWasmBackend({ threads: 2 });
    expect(threaded.pool).not.toBeNull();
    expect(compiled.map((bytes) => bytes.equals(Buffer.from(wasmThreadsBytes())))).toEqual([true]);
    threaded.dispose();
    createWasmBackend();
    expect(compiled.map((bytes) => bytes.equals(Buffer.from(wasmBytes())))).toEqual([false, true]);
  });
});
