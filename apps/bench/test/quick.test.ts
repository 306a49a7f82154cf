import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * CI smoke run of `pnpm bench:quick`: every library × task runs in its own child and the
 * table / JSON / Markdown come out with the right structure. No timing thresholds.
 */
describe('bench --quick', () => {
  it('runs every library and writes the table, latest.json and latest.md', async () => {
    const out = mkdtempSync(join(tmpdir(), 'backprop-bench-'));
    // Asynchronous, so vitest's worker stays responsive during the ~1 min run.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(app, 'src/run.mjs'), '--quick', '--jobs', '2', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('BP/tfjs-wasm');
    expect(run.stdout).toContain('Model A train (samples/s)');
    expect(run.stdout).toContain('Conv2DBackpropFilter registered for wasm');
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(report.quick).toBe(true);
    expect(run.stdout).toContain('wasm/tfjs-wasm');
    expect(run.stdout).toContain('wasm/backprop-cpu');
    const libs = ['backprop-cpu', 'backprop-wasm', 'tfjs-wasm', 'tfjs-cpu', 'convnetjs'];
    // Threaded wasm kernels may not be in this build: then every task says why, and nothing fails.
    for (const task of ['kernels', 'A', 'B']) {
      const r = report.results.find((x: { lib: string; task: string }) => x.lib === 'backprop-wasm-threads' && x.task === task);
      expect(r, `backprop-wasm-threads ${task}`).toBeDefined();
      expect(r.error, `backprop-wasm-threads ${task}`).toBeUndefined();
      if (r.skipped) expect(r.skipped).toMatch(/^not available: .*threads/);
      else if (task === 'kernels') expect(r.kernels.matMul.ms).toBeGreaterThan(0);
      else expect(r.train.samplesPerSecond).toBeGreaterThan(0);
    }
    for (const task of ['kernels', 'A', 'B']) {
      for (const lib of libs) {
        const r = report.results.find((x: { lib: string; task: string }) => x.lib === lib && x.task === task);
        expect(r, `${lib} ${task}`).toBeDefined();
        expect(r.error, `${lib} ${task}`).toBeUndefined();
        if (r.skipped) continue;
        expect(r.peakRssMB).toBeGreaterThan(0);
        if (task === 'kernels') {
          expect(r.kernels.convForward.ms).toBeGreaterThan(0);
          if (lib !== 'convnetjs') expect(r.kernels.convFilterGradPooled.ms, `${lib}: filter gradient of the pooled dy`).toBeGreaterThan(0);
        }
        else {
          expect(r.train.samplesPerSecond).toBeGreaterThan(0);
          expect(r.infer.samplesPerSecond).toBeGreaterThan(0);
        }
        if (task === 'A' && !r.epoch.skipped) {
          // A fraction of the test images, not a count.
          expect(r.epoch.testAccuracy).toBeGreaterThanOrEqual(0);
          expect(r.epoch.testAccuracy).toBeLessThanOrEqual(1);
        }
      }
    }
    const figures = report.table.map((row: { figure: string }) => row.figure);
    expect(figures).toEqual(expect.arrayContaining(['paper conv fwd, batch 32 (ms)', 'paper conv filter grad, dy as behind max pool + ReLU (ms)', 'matMul 256³ (ms)', 'Model A train (samples/s)', 'Model B inference (samples/s)']));
    for (const row of report.table) {
      expect(Object.keys(row.ratios)).toEqual(['tfjs-wasm', 'tfjs-cpu', 'convnetjs']);
      expect(Object.keys(row.wasmRatios)).toEqual(['tfjs-wasm', 'backprop-cpu']);
      const { 'backprop-wasm': wasm, 'backprop-cpu': cpu } = row.values;
      if (wasm !== null && cpu !== null) expect(row.wasmRatios['backprop-cpu']).toBeCloseTo(wasm / cpu, 12);
    }
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toMatch(/\| figure \| backprop-cpu \|/);
  });
});
