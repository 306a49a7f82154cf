// The thread pool (here running gemm) in a real browser — Debian's Chromium (scripts/chromium.ts) driven by
// playwright-core — where it takes the other paths: a Web Worker from a Blob, and a main thread
// that may not block in Atomics.wait (it spins). The page is cross-origin isolated (COOP/COEP),
// which a shared WebAssembly.Memory needs; a page that is not gets the pool's one-thread report.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleTestPage, recordPageErrors, scriptPage, serveAndLaunch, waitForPageResult } from '../../../../scripts/chromium.js';
import { compileGemmBinary } from '../../bench/compile-gemm.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** What the page reports. */
interface PageResult {
  fatal?: string;
  crossOriginIsolated: boolean;
  status: { workers: number; failures: string[] };
  mainThreadBlocks: number[];
  differing: number;
  checked: number;
}

// The page: the pool (this folder's TypeScript, bundled) over the threaded gemm build, one
// product through the pool and the same one in a single call, compared bit for bit.
const pageSource = `
import { controlBlockBytes, WasmThreadPool } from './pool';
import { fillRandom } from '../../bench/fill-random.mjs';

async function run() {
  const shared = typeof SharedArrayBuffer === 'function';
  const module = await WebAssembly.compileStreaming(fetch('/gemm.wasm'));
  const memory = shared
    ? new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  let top = 65536;
  const alloc = (floats) => { const at = top; top = (top + floats * 4 + 63) & ~63; return at; };
  const control = alloc(controlBlockBytes(2) / 4);
  const instance = shared ? await WebAssembly.instantiate(module, { env: { memory } }) : null;
  const mainThreadBlocks = [];
  const kernels = {
    gemm: (...args) => { mainThreadBlocks.push(args[3]); instance.exports.gemm(...args); },
    gemmScratchBytes: (m, n, k) => (instance ? instance.exports.gemmScratchBytes(m, n, k) : 0),
  };
  const pool = new WasmThreadPool({ threads: 2, module, memory, kernels, control, minParallelFlop: 0 });
  const status = await pool.ready;
  if (!shared) return { crossOriginIsolated, status, mainThreadBlocks, differing: 0, checked: 0 };
  const [M, N, K] = [37, 200, 300];
  const a = alloc(M * K), b = alloc(K * N), c = alloc(M * N);
  const scratch = alloc(pool.scratchBytes(M, N, K) / 4);
  fillRandom(new Float32Array(memory.buffer, a, M * K), 1);
  fillRandom(new Float32Array(memory.buffer, b, K * N), 2);
  pool.gemm({ transA: false, transB: false, M, N, K, a, lda: K, b, ldb: N, c, ldc: N, accumulate: false }, scratch);
  const pooled = new Float32Array(memory.buffer, c, M * N).slice();
  instance.exports.gemm(0, 0, M, N, K, a, K, b, N, c, N, 0, scratch);
  const single = new Float32Array(memory.buffer, c, M * N);
  let differing = 0;
  for (let i = 0; i < M * N; i++) if (!Object.is(pooled[i], single[i])) differing++;
  pool.terminate();
  return { crossOriginIsolated, status, mainThreadBlocks, differing, checked: M * N };
}
globalThis.__result = run().catch((e) => ({ fatal: String((e && e.stack) || e) }));
`;

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let base = '';
let context: BrowserContext;
beforeAll(async () => {
  const script = await bundleTestPage({ contents: pageSource, resolveDir: here, sourcefile: 'page.ts' });
  const wasm = await compileGemmBinary(undefined, 'threads');
  const page = await serveAndLaunch(chromium, (path, query) => {
    // ?isolated=0 serves the page without the headers that make it cross-origin isolated.
    const headers: Record<string, string> =
      query === 'isolated=0' ? {} : { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    if (path === '/page.js') return { type: 'text/javascript; charset=utf-8', body: script, headers };
    if (path === '/gemm.wasm') return { type: 'application/wasm', body: wasm, headers };
    if (path === '/') return { ...scriptPage('WasmThreadPool in chromium', '/page.js'), headers };
    return undefined;
  });
  cleanup.push(page.close);
  ({ base, context } = page);
});

async function runPage(query: string): Promise<{ result: PageResult; pageErrors: string[] }> {
  const page = await context.newPage();
  const pageErrors = recordPageErrors(page);
  await page.goto(`${base}/${query}`);
  const result = await waitForPageResult<PageResult>(page, 60_000);
  await page.close();
  return { result, pageErrors };
}

describe('WasmThreadPool in Chromium', () => {
  it('a cross-origin isolated page: a Blob worker takes its block, the result is the single call’s bit for bit', async () => {
    const { result, pageErrors } = await runPage('');
    expect(result.fatal ?? null, 'the page ran').toBeNull();
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.status).toEqual({ workers: 1, failures: [] });
    // The main thread computed only its block (the first 112 of 200 columns, whole 16-column tiles).
    expect(result.mainThreadBlocks).toEqual([112]);
    expect(result.checked).toBe(37 * 200);
    expect(result.differing).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('a page that is not isolated: no shared memory, reported, and gemm stays on the main thread', async () => {
    const { result, pageErrors } = await runPage('?isolated=0');
    expect(result.fatal ?? null, 'the page ran').toBeNull();
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.status.workers).toBe(0);
    expect(result.status.failures).toEqual([expect.stringContaining('the memory is not shared')]);
    expect(pageErrors).toEqual([]);
  });
});
