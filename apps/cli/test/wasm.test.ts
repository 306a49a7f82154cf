import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, makePng, start, tempDir } from './helpers.js';

/** Node flags that make the CLI's process an engine without WebAssembly SIMD (a shim) or without WebAssembly at all. */
const NO_SIMD = ['--import', fileURLToPath(new URL('./fixtures/no-wasm-simd.mjs', import.meta.url))];
const NO_WASM = ['--jitless'];
const FALLBACK = /^backprop: the wasm backend cannot run here \(@backprop\/backend-wasm: (.+)\); using the cpu backend$/m;

function cliWith(nodeArgs: string[], ...args: string[]) {
  return start(args, { nodeArgs }).done;
}

interface Prediction {
  results: { file: string; prediction: number; top: { digit: number; probability: number }[] }[];
}

describe('--backend wasm', () => {
  const out = join(tempDir(), 'wasm');
  const digit = join(tempDir(), 'digit.png');
  let result: Record<string, unknown>;

  beforeAll(async () => {
    const r = await cli('train', '--backend', 'wasm', '--limit', '256', '--test-limit', '128', '--epochs', '1', '--out', out, '--json');
    expect(r.stderr).not.toMatch(/error|cannot run here/);
    expect(r.code).toBe(0);
    result = JSON.parse(r.stdout);
    // A thick "1": a vertical bar, white on black.
    writeFileSync(digit, makePng(28, 28, (x, y) => (x >= 12 && x <= 15 && y >= 4 && y <= 23 ? [255, 255, 255, 255] : [0, 0, 0, 255])));
  });

  it('trains on the wasm backend and records it', () => {
    expect(result.backend).toBe('wasm');
    expect(result.epochs).toBe(1);
    expect(result.trainSamplesPerSecond).toBeGreaterThan(0);
    // 256 images, one epoch: well above chance (0.1).
    expect(result.testAccuracy).toBeGreaterThan(0.2);
  });

  it('evaluates and predicts the saved model on wasm as on cpu (float32 tolerance)', async () => {
    const onWasm = await cli('evaluate', '--model-dir', join(out, 'model'), '--limit', '128', '--backend', 'wasm', '--json');
    const onCpu = await cli('evaluate', '--model-dir', join(out, 'model'), '--limit', '128', '--backend', 'cpu', '--json');
    expect(onWasm.code).toBe(0);
    expect(onCpu.code).toBe(0);
    const [w, c] = [JSON.parse(onWasm.stdout), JSON.parse(onCpu.stdout)];
    expect(w.testAccuracy).toBeCloseTo(result.testAccuracy as number, 10);
    expect(w.testAccuracy).toBeCloseTo(c.testAccuracy, 10);
    expect(w.testLoss).toBeCloseTo(c.testLoss, 4);

    const pw = await cli('predict', '--model-dir', join(out, 'model'), digit, '--backend', 'wasm', '--json');
    const pc = await cli('predict', '--model-dir', join(out, 'model'), digit, '--backend', 'cpu', '--json');
    expect(pw.code).toBe(0);
    expect(pc.code).toBe(0);
    const [a, b] = [JSON.parse(pw.stdout) as Prediction, JSON.parse(pc.stdout) as Prediction];
    expect(a.results[0].prediction).toBe(b.results[0].prediction);
    for (let i = 0; i < 3; i++) {
      expect(a.results[0].top[i].digit).toBe(b.results[0].top[i].digit);
      expect(a.results[0].top[i].probability).toBeCloseTo(b.results[0].top[i].probability, 4);
    }
  });

  it('is the default where WebAssembly SIMD runs, with no fallback line', async () => {
    const r = await cli('predict', '--model-dir', join(out, 'model'), digit, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(FALLBACK);
    const help = await cli('train', '--help');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('default: wasm, or cpu where WebAssembly SIMD is missing');
  });

  it('falls back to cpu, saying so in one line, where SIMD is missing', async () => {
    const r = await cliWith(NO_SIMD, 'train', '--limit', '64', '--test-limit', '32', '--epochs', '1', '--out', join(tempDir(), 'no-simd'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => FALLBACK.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/does not support WebAssembly 128-bit SIMD/);
    expect(JSON.parse(r.stdout).backend).toBe('cpu');
  });

  it('falls back to cpu where WebAssembly itself is missing (node --jitless)', async () => {
    const r = await cliWith(NO_WASM, 'predict', '--model-dir', join(out, 'model'), digit, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(FALLBACK);
    expect(r.stderr).toMatch(/WebAssembly is not available/);
    expect((JSON.parse(r.stdout) as Prediction).results[0].prediction).toBeGreaterThanOrEqual(0);
  });

  it('chosen explicitly where SIMD is missing, fails with one line (exit 1)', async () => {
    const r = await cliWith(NO_SIMD, 'predict', '--model-dir', join(out, 'model'), digit, '--backend', 'wasm');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^backprop: error: cannot use backend 'wasm': @backprop\/backend-wasm: this engine does not support WebAssembly 128-bit SIMD.*\(or use --backend cpu\)$/m);
  });

  it('gradcheck keeps cpu as its default (float64)', async () => {
    const help = await cli('gradcheck', '--help');
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/--backend <name>.*default: "cpu"/);
  });
});

describe('backprop info: the wasm build', () => {
  it('prints SIMD, relaxed SIMD and threads', async () => {
    const r = await cli('info');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backends: +cpu, wasm\b/m);
    expect(r.stdout).toMatch(/^wasm: +SIMD yes, relaxed SIMD (yes|no), threads \d+, \d+ KB module$/m);
    const json = JSON.parse((await cli('info', '--json')).stdout);
    expect(json.wasm).toMatchObject({ available: true, simd: true, threads: 1 });
    expect(typeof json.wasm.relaxedSimd).toBe('boolean');
    expect(json.wasm.moduleBytes).toBeGreaterThan(1000);
  });

  it('says why where SIMD is missing, and lists cpu only', async () => {
    const r = await cliWith(NO_SIMD, 'info');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backends: +cpu\b(?!, wasm)/m);
    expect(r.stdout).toMatch(/^wasm: +not available \(this engine does not support WebAssembly 128-bit SIMD.*\); SIMD yes/m);
  });
});
