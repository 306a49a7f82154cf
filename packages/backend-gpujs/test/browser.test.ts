// The gpu.js backend in a real browser: Debian's Chromium (no GPU: SwiftShader behind
// both WebGL2 and WebGPU) driven by playwright-core. test/browser/entry.ts is bundled
// with esbuild, 'vitest' aliased to an in-page harness built on vitest's own expect
// (test/browser/harness.ts), so the page runs the real suites unchanged:
// describeBackendConformance, the gpu.js traps, training steps back to the memory
// baseline and steps on real MNIST matching the CPU backend's losses (the Node side
// serves the images; the step counts are in browser/steps.ts); plus a compact table checking every kernel against the CPU backend.
//
// webgl2 runs with the plain headless flags. webgpu needs --enable-unsafe-webgpu: without
// it navigator.gpu exists but requestAdapter() resolves null, and the page must get a
// GpujsModeError saying so (checked too). Chromium is installed by
// scripts/ensure-system-deps.sh before the tests; a missing browser is a failure.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@backprop/datasets';
import { KERNEL_NAMES } from '@backprop/tensor';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleTestPage, chromiumLaunchOptions, launchChromium, recordPageErrors, scriptPage, serveRoutes, waitForPageResult } from '../../../scripts/chromium.js';
import type { BrowserResult } from './browser/entry.js';
import { BROWSER_PARITY_STEPS } from './browser/steps.js';

const CHROMIUM = chromiumLaunchOptions().executablePath;
const here = dirname(fileURLToPath(import.meta.url));
/** Enough for the in-page MNIST parity test. */
const MNIST_IMAGES = BROWSER_PARITY_STEPS * 32;

// The plugin's view of esbuild's build object, with the little this file uses.
interface EsbuildPluginBuild {
  onResolve(options: { filter: RegExp }, callback: (args: { path: string }) => { path: string; namespace?: string }): void;
  onLoad(options: { filter: RegExp; namespace: string }, callback: () => { contents: string; loader: 'js' }): void;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let base = '';
beforeAll(async () => {
  const started = Date.now();
  const bundle = await bundleTestPage(join(here, 'browser/entry.ts'), {
    plugins: [
      {
        name: 'page-stand-ins',
        setup(build: EsbuildPluginBuild) {
          // The suites import vitest and @backprop/datasets (Node's fs); the page has stand-ins.
          build.onResolve({ filter: /^vitest$/ }, () => ({ path: join(here, 'browser/harness.ts') }));
          build.onResolve({ filter: /^@backprop\/datasets$/ }, () => ({ path: join(here, 'browser/mnist.ts') }));
          // The Node-only `webgpu` package (Dawn) is imported lazily for Node's WebGPU; the page needs none.
          build.onResolve({ filter: /^webgpu$/ }, () => ({ path: 'webgpu', namespace: 'empty' }));
          build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
        },
      },
    ],
  });
  console.log(`[browser] bundled the page in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { train } = await loadMnist({ trainLimit: MNIST_IMAGES, testLimit: 1 });
  const mnist = Buffer.concat([
    Buffer.from(new Uint32Array([train.count]).buffer),
    Buffer.from(train.images.buffer, train.images.byteOffset, train.images.byteLength),
    Buffer.from(train.labels.buffer, train.labels.byteOffset, train.labels.byteLength),
  ]);
  const server = await serveRoutes((path) => {
    if (path === '/entry.js') return { type: 'text/javascript; charset=utf-8', body: bundle };
    if (path === '/mnist.bin') return { type: 'application/octet-stream', body: mnist };
    if (path === '/' || path === '/index.html') return scriptPage('gpujs in chromium', '/entry.js');
    return undefined;
  });
  cleanup.push(server.close);
  // 127.0.0.1 is a secure context: navigator.gpu is exposed there.
  base = server.url;
});

async function launch(extraArgs: string[]): Promise<BrowserContext> {
  const browser = await launchChromium(chromium, { extraArgs });
  cleanup.push(browser.close);
  return browser.context;
}

/** Opens the page in `mode` and waits for its result; page errors are collected. */
async function runPage(context: BrowserContext, mode: string): Promise<{ result: BrowserResult; pageErrors: string[]; seconds: number }> {
  const started = Date.now();
  const page = await context.newPage();
  const pageErrors = recordPageErrors(page);
  page.on('console', (msg) => {
    // The training suite logs its speed and its largest loss difference from the CPU backend.
    if (msg.type() === 'log' && msg.text().startsWith('gpujs ')) console.log(`[browser ${mode}] ${msg.text()}`);
  });
  await page.goto(`${base}/?mode=${mode}`);
  const result = await waitForPageResult<BrowserResult | { fatal: string }>(page, 540_000);
  await page.close();
  expect('fatal' in result ? result.fatal : null, 'the page ran').toBeNull();
  return { result: result as BrowserResult, pageErrors, seconds: (Date.now() - started) / 1000 };
}

/** Checks a full run: every kernel against the CPU, and every registered suite test passed. */
function expectFullRun(mode: string, { result, pageErrors, seconds }: Awaited<ReturnType<typeof runPage>>): void {
  const r = result;
  const tests = r.tests!;
  const bySuite = new Map<string, number>();
  for (const name of tests.passed) {
    const suite = name.split(' > ')[0].replace(/ \(.*$/, '');
    bySuite.set(suite, (bySuite.get(suite) ?? 0) + 1);
  }
  const training = tests.passed.filter((n) => n.startsWith('training'));
  console.log(
    `[browser ${mode}] ${JSON.stringify({
      adapter: r.adapter,
      kernelsPassed: r.kernels?.passed.length,
      kernelCases: r.kernels?.cases,
      testsPassed: tests.passed.length,
      bySuite: Object.fromEntries(bySuite),
      failed: tests.failed,
      skipped: tests.skipped.length,
      suiteSeconds: +tests.seconds.toFixed(1),
      slowest: tests.slowest.map((s) => `${s.name.split(' > ').pop()} ${s.seconds.toFixed(1)} s`),
      totalSeconds: seconds,
      trainingTests: training.length,
    })}`,
  );
  expect(r.kernels!.mode).toBe(mode);
  expect(r.kernels!.onDevice, `${mode} keeps results on the device`).toBe(true);
  expect(r.kernels!.failed).toEqual([]);
  expect([...r.kernels!.checked].sort(), 'every kernel ran on the gpujs registry').toEqual([...KERNEL_NAMES].sort());
  expect(tests.failed).toEqual([]);
  expect(tests.skipped).toEqual([]);
  expect(bySuite.get(`backend-gpujs ${mode} mode`) ?? 0, 'the conformance suite ran in the page').toBeGreaterThan(150);
  expect(bySuite.get('gpu.js traps and device behaviour') ?? 0, 'the traps ran').toBeGreaterThanOrEqual(7);
  expect(training.length, 'the memory and MNIST parity training tests ran').toBe(2);
  expect(pageErrors).toEqual([]);
}

/** The webgpu run with --enable-unsafe-webgpu, started once (by the webgl2 test, to overlap it). */
let webgpuRun: ReturnType<typeof runPage> | undefined;
const startWebgpuRun = (): ReturnType<typeof runPage> => (webgpuRun ??= launch(['--enable-unsafe-webgpu']).then((context) => runPage(context, 'webgpu')));

describe('backend-gpujs in Chromium (SwiftShader, no GPU)', () => {
  it('has Debian chromium to drive', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-system-deps.sh`).toBe(true);
  });

  it('webgl2: every kernel matches the CPU backend; the conformance suite, traps, training memory and MNIST parity pass', async () => {
    // The webgpu page runs in its own browser meanwhile (checked in its own test below): each
    // page spends much of its time waiting on its SwiftShader, so the two overlap well.
    void startWebgpuRun().catch(() => undefined);
    const context = await launch([]);
    expectFullRun('webgl2', await runPage(context, 'webgl2'));
  });

  it('webgpu without --enable-unsafe-webgpu: navigator.gpu has no adapter, and a read rejects with GpujsModeError saying so', async () => {
    const context = await launch([]);
    const { result, pageErrors } = await runPage(context, 'webgpu');
    console.log(`[browser webgpu, no flag] ${JSON.stringify({ adapter: result.adapter, unavailable: result.unavailable })}`);
    expect(result.adapter, 'requestAdapter() resolves null').toBeNull();
    expect(result.unavailable?.why).toMatch(/requestAdapter\(\) returned null: no WebGPU adapter/);
    expect(result.unavailable?.readError?.name).toBe('GpujsModeError');
    expect(result.unavailable?.readError?.message).toMatch(/mode 'webgpu' cannot start here: gpu\.js could not get a WebGPU device/);
    expect(pageErrors).toEqual([]);
  });

  it('webgpu (--enable-unsafe-webgpu): every kernel matches the CPU backend; the conformance suite, traps, training memory and MNIST parity pass', async () => {
    const run = await startWebgpuRun();
    expect(run.result.unavailable, 'SwiftShader provides a WebGPU adapter with this flag').toBeUndefined();
    expect(run.result.adapter).toMatchObject({ architecture: 'swiftshader' });
    expectFullRun('webgpu', run);
  });
});
