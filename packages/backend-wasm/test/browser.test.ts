// The wasm backend in a real browser: Debian's Chromium (scripts/chromium.ts: the shared
// binary lookup and headless, off-network flags) driven by playwright-core.
// test/browser/entry.ts is bundled with esbuild, 'vitest' aliased to the in-page harness of
// backend-gpujs's browser test (vitest's own expect), so the page runs this package's suites
// unchanged: the conformance suite against backend-cpu in the page (sync and async reads) and
// the presets trained on both backends with losses and weights compared.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../../scripts/chromium.js';
import type { BrowserResult } from './browser/entry.js';

const here = dirname(fileURLToPath(import.meta.url));

// esbuild is not a dependency of this package; it comes with tsup (a root devDependency),
// so it is resolved from tsup and typed here with the little this file uses.
interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}
async function loadEsbuild(): Promise<Esbuild> {
  const require = createRequire(import.meta.url);
  return (await import(createRequire(require.resolve('tsup')).resolve('esbuild'))) as Esbuild;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let base = '';
let context: BrowserContext;
beforeAll(async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'backprop-wasm-browser-'));
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
    // saveModel/loadModel import node:fs lazily; the page never calls them.
    external: ['node:*'],
    // The package declares src/ free of side effects; the page imports test files for theirs.
    ignoreAnnotations: true,
    logLevel: 'silent',
    alias: { vitest: join(here, '../../backend-gpujs/test/browser/harness.ts') },
  });
  const bundle = readFileSync(join(outDir, 'entry.js'));
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>backend-wasm in chromium</title><link rel="icon" href="data:,"></head><body><script src="/entry.js"></script></body></html>';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/entry.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
    else if (path === '/' || path === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'backprop-wasm-chromium-'));
  cleanup.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  context = await chromium.launchPersistentContext(userDataDir, chromiumLaunchOptions());
  cleanup.push(() => context.close());
});

describe('backend-wasm in Chromium', () => {
  it('has Debian chromium to drive', () => {
    const { executablePath } = chromiumLaunchOptions();
    expect(existsSync(executablePath), `${executablePath} is missing: run scripts/ensure-system-deps.sh`).toBe(true);
  });

  it('passes the conformance suite against backend-cpu in the page and trains the presets as backend-cpu does', async () => {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(`uncaught: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console error: ${msg.text()}`);
    });
    await page.goto(base);
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, undefined, { timeout: 540_000, polling: 500 });
    const result = (await page.evaluate(() => (globalThis as { __result?: unknown }).__result)) as BrowserResult | { fatal: string };
    await page.close();
    expect('fatal' in result ? result.fatal : null, 'the page ran').toBeNull();
    const { tests, unavailable, userAgent } = result as BrowserResult;
    const bySuite = new Map<string, number>();
    for (const name of tests.passed) bySuite.set(name.split(' > ')[0], (bySuite.get(name.split(' > ')[0]) ?? 0) + 1);
    console.log(`[browser wasm] ${JSON.stringify({ userAgent, passed: tests.passed.length, bySuite: Object.fromEntries(bySuite), failed: tests.failed, seconds: +tests.seconds.toFixed(1) })}`);
    expect(unavailable, 'Chromium has WebAssembly SIMD').toBeNull();
    expect(tests.failed).toEqual([]);
    expect(tests.skipped).toEqual([]);
    expect(bySuite.get('backend-wasm float32') ?? 0, 'the conformance suite ran in the page').toBeGreaterThan(150);
    expect(bySuite.get('backend-wasm float32, async reads only') ?? 0, 'the async-reads suite ran in the page').toBe(bySuite.get('backend-wasm float32'));
    const training = tests.passed.filter((n) => n.startsWith('training the presets on the wasm backend'));
    expect(training.length, 'the presets trained against backend-cpu in the page').toBeGreaterThanOrEqual(2);
    expect(pageErrors).toEqual([]);
  });
});
