// The wasm backend in a real browser: Debian's Chromium (scripts/chromium.ts: the shared
// binary lookup and headless, off-network flags) driven by playwright-core.
// test/browser/entry.ts is bundled with esbuild, 'vitest' aliased to the in-page harness of
// backend-gpujs's browser test (vitest's own expect), so the page runs this package's suites
// unchanged: the conformance suite against backend-cpu in the page (sync and async reads) and
// the presets trained on both backends with losses and weights compared.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleTestPage, chromiumLaunchOptions, recordPageErrors, scriptPage, serveAndLaunch, waitForPageResult } from '../../../scripts/chromium.js';
import type { BrowserResult } from './browser/entry.js';

const here = dirname(fileURLToPath(import.meta.url));

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let base = '';
let context: BrowserContext;
beforeAll(async () => {
  const bundle = await bundleTestPage(join(here, 'browser/entry.ts'), {
    // The package declares src/ free of side effects; the page imports test files for theirs.
    ignoreAnnotations: true,
    alias: { vitest: join(here, '../../backend-gpujs/test/browser/harness.ts') },
  });
  const page = await serveAndLaunch(chromium, (path) => {
    if (path === '/entry.js') return { type: 'text/javascript; charset=utf-8', body: bundle };
    if (path === '/' || path === '/index.html') return scriptPage('backend-wasm in chromium', '/entry.js');
    return undefined;
  });
  cleanup.push(page.close);
  ({ base, context } = page);
});

describe('backend-wasm in Chromium', () => {
  it('has Debian chromium to drive', () => {
    const { executablePath } = chromiumLaunchOptions();
    expect(existsSync(executablePath), `${executablePath} is missing: run scripts/ensure-system-deps.sh`).toBe(true);
  });

  it('passes the conformance suite against backend-cpu in the page and trains the presets as backend-cpu does', async () => {
    const page = await context.newPage();
    const pageErrors = recordPageErrors(page);
    await page.goto(base);
    const result = await waitForPageResult<BrowserResult | { fatal: string }>(page, 540_000);
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
