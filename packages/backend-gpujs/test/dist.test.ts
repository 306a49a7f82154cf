// The BUILT package (tsup output in dist/) must behave like src: gpu.js compiles kernel
// source text, and a build step that rewrote it would break kernels only in dist.
// `pnpm test` at the root builds first; run `pnpm --filter @backprop/backend-gpujs build` before running this file alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@backprop/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { defineTrapTests, yieldBetweenTests } from './suites.js';
import { ensureDisplay, stopDisplay } from './xvfb.js';

const distFile = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(distFile)) throw new Error(`${distFile} is missing: build the package first (pnpm --filter @backprop/backend-gpujs build)`);
const dist = (await import('../dist/index.js')) as typeof import('../src/index.js');

yieldBetweenTests();
for (const mode of ['cpu', 'webasm'] as const) {
  describeBackendConformance(`backend-gpujs dist, ${mode} mode`, dist.gpujsBackend({ mode }), { backendName: 'gpujs', dtypes: ['float32'] });
  defineTrapTests(mode, dist, 'dist');
}

describe('process lifetime', () => {
  afterAll(() => stopDisplay());
  for (const mode of ['cpu', 'webasm', 'headlessgl', 'webgpu'] as const) {
    it(`a Node process using the ${mode} mode exits by itself after removeBackend`, async () => {
      // headless-gl needs X; the display is started here, gl is only loaded in the child.
      const env = mode === 'headlessgl' ? { ...process.env, DISPLAY: await ensureDisplay() } : process.env;
      const script = fileURLToPath(new URL('./fixtures/exit.mjs', import.meta.url));
      const started = Date.now();
      const result = spawnSync(process.execPath, [script, mode], { encoding: 'utf8', timeout: 60_000, env });
      expect(result.error, 'the process did not exit within 60 s').toBeUndefined();
      expect(Date.now() - started, 'it exits promptly (a live Dawn device kept it spinning before)').toBeLessThan(30_000);
      // Dawn prints two notes about its GLES limits on stderr when an adapter is created.
      const stderr = mode === 'webgpu' ? result.stderr.replace(/^Warning: max\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\n/gm, '') : result.stderr;
      expect(stderr).toBe('');
      expect(result.stdout.trim()).toBe(`ok ${mode} 4`);
      expect(result.status).toBe(0);
    });
  }
});
