// The GEMM harness shared by bench/gemm*.mjs and the gemm tests: compiles assembly/gemm.ts on its
// own (no other kernels) into a WebAssembly.Module, in memory, with asconfig.json's targets (the
// flags the package's build uses), so the GEMM can be benchmarked and tested by itself; instantiates it with a bump
// allocator; fills operands; times calls.
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

export { fillRandom } from './fill-random.mjs';

export const gemmSource = fileURLToPath(new URL('../assembly/gemm.ts', import.meta.url));

export const asconfig = fileURLToPath(new URL('../asconfig.json', import.meta.url));

/**
 * @param {string} [source] an AssemblyScript file exporting gemm/gemmScratchBytes
 * @param {'release' | 'threads'} [target] the asconfig.json target whose flags it is built with (threads: a shared memory)
 */
export async function compileGemmBinary(source = gemmSource, target = 'release') {
  let binary = null;
  const errors = [];
  const { error } = await asc.main(
    // The package's own targets, only the output file overridden (writeFile below catches it).
    [source, '--config', asconfig, '--target', target, '--outFile', 'gemm.wasm'],
    {
      writeFile(name, contents) {
        if (name.endsWith('.wasm')) binary = contents;
      },
      stdout: { write() {} },
      stderr: { write: (text) => errors.push(String(text)) },
    },
  );
  if (error || binary === null) throw new Error(`asc failed on ${source}: ${error?.message ?? 'no binary'}\n${errors.join('')}`);
  return binary;
}

/** compileGemmBinary, compiled into a WebAssembly.Module. */
export async function compileGemm(source = gemmSource, target = 'release') {
  return WebAssembly.compile(await compileGemmBinary(source, target));
}

/**
 * Instantiates the compiled gemm module on a fresh memory of `pages` 64 KiB pages (shared for a
 * module compiled with --sharedMemory) and returns its
 * exports with a bump allocator over that memory (64-byte aligned; offsets start past 64 KiB, above
 * the module's own static data).
 */
export async function instantiateGemm(module, pages = 256, { shared = false } = {}) {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared });
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort() {
        throw new Error('gemm module aborted');
      },
    },
  });
  let top = 65536;
  return {
    gemm: instance.exports.gemm,
    gemmScratchBytes: instance.exports.gemmScratchBytes,
    memory,
    /** Reserves `floats` f32s and returns their byte offset. */
    alloc(floats) {
      const at = top;
      top = (top + floats * 4 + 63) & ~63;
      if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
      return at;
    },
    /** Frees everything alloc handed out. */
    reset() {
      top = 65536;
    },
    module,
    f32(at, floats) {
      return new Float32Array(memory.buffer, at, floats);
    },
  };
}

/** Milliseconds of process CPU time (user + system). */
export function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Milliseconds per call of `fn` on `clock` (default wall time): calls it in doubling batches until
 * `budgetMs` of that clock has passed, after one warm-up call.
 */
export function timePerCall(fn, budgetMs, clock = () => performance.now()) {
  fn();
  let calls = 0;
  const start = clock();
  let now = start;
  let batch = 1;
  while (now - start < budgetMs) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    batch *= 2;
    now = clock();
  }
  return (now - start) / calls;
}
