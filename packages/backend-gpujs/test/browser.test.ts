// webgl2 mode in a real browser: Debian's Chromium (SwiftShader WebGL2, no GPU) driven by
// playwright-core. test/browser/entry.ts is bundled with esbuild and served from a local
// HTTP server; the page checks float32 parity of every kernel of KERNEL_NAMES against the
// CPU backend (rtol 1e-4, atol 1e-5) and MATH.md W2 exactly, and leaves its outcome on
// window.__result. Chromium is installed by scripts/ensure-system-deps.sh before the tests;
// a missing browser is a failure, not a skip.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNEL_NAMES } from '@backprop/tensor';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserResult } from './browser/entry.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

// esbuild is not a dependency of this package; it comes with tsup (a root devDependency),
// so it is resolved from tsup and typed here with the little this file uses.
interface EsbuildPluginBuild {
  onResolve(options: { filter: RegExp }, callback: () => { path: string; namespace: string }): void;
  onLoad(options: { filter: RegExp; namespace: string }, callback: () => { contents: string; loader: 'js' }): void;
}
interface Esbuild {
  build(options: Record<string, unknown> & { plugins?: { name: string; setup(build: EsbuildPluginBuild): void }[] }): Promise<unknown>;
}
async function loadEsbuild(): Promise<Esbuild> {
  const require = createRequire(import.meta.url);
  const fromTsup = createRequire(require.resolve('tsup')).resolve('esbuild');
  return (await import(fromTsup)) as Esbuild;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe('backend-gpujs webgl2 mode in Chromium (SwiftShader)', () => {
  it('has Debian chromium to drive', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-system-deps.sh`).toBe(true);
  });

  it('every kernel matches the CPU backend in float32, and MATH.md W2 is exact', async () => {
    const started = Date.now();
    const outDir = mkdtempSync(join(tmpdir(), 'backprop-gpujs-browser-'));
    cleanup.push(() => rmSync(outDir, { recursive: true, force: true }));
    const esbuild = await loadEsbuild();
    await esbuild.build({
      entryPoints: [join(here, 'browser/entry.ts')],
      outfile: join(outDir, 'entry.js'),
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      conditions: ['backprop-source'],
      logLevel: 'silent',
      plugins: [
        {
          // The Node-only `webgpu` package (Dawn) is imported lazily for Node's WebGPU; the page needs none.
          name: 'no-node-webgpu',
          setup(build) {
            build.onResolve({ filter: /^webgpu$/ }, () => ({ path: 'webgpu', namespace: 'empty' }));
            build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
          },
        },
      ],
    });
    const bundle = readFileSync(join(outDir, 'entry.js'));
    const html = '<!doctype html><html><head><meta charset="utf-8"><title>gpujs webgl2</title><link rel="icon" href="data:,"></head><body><script src="/entry.js"></script></body></html>';

    const server: Server = createServer((req, res) => {
      if (req.url === '/entry.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      else if (req.url === '/' || req.url === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const userDataDir = mkdtempSync(join(tmpdir(), 'backprop-gpujs-chromium-'));
    cleanup.push(() => rmSync(userDataDir, { recursive: true, force: true }));
    const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    cleanup.push(() => context.close());

    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(`uncaught: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console error: ${msg.text()}`);
    });
    await page.goto(`${base}/`);
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, undefined, { timeout: 120_000, polling: 250 });
    const result = (await page.evaluate(() => (globalThis as { __result?: unknown }).__result)) as BrowserResult | { fatal: string };
    console.log(`[browser webgl2] ${JSON.stringify({ ...result, passed: 'passed' in result ? result.passed.length : undefined, checked: 'checked' in result ? result.checked.length : undefined, totalSeconds: (Date.now() - started) / 1000 })}`);

    expect('fatal' in result ? result.fatal : null, 'the page ran the check').toBeNull();
    const r = result as BrowserResult;
    expect(r.mode).toBe('webgl2');
    expect(r.onDevice, 'webgl2 keeps results in textures').toBe(true);
    expect(r.failed).toEqual([]);
    expect([...r.checked].sort(), 'every kernel ran on the gpujs registry').toEqual([...KERNEL_NAMES].sort());
    expect(r.passed.length).toBe(KERNEL_NAMES.length);
    expect(pageErrors).toEqual([]);
  });
});
