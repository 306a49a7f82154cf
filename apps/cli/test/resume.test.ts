import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, SMALL, start, tempDir, weightsOf } from './helpers.js';

// Adam has per-parameter state, so a bit-identical resume also proves the optimizer state is restored.
const RUN = [...SMALL, '--optimizer', 'adam', '--lr', '0.001', '--seed', '7'];

describe('checkpoints and resuming', () => {
  it('a resumed run ends with exactly the weights of an uninterrupted one', async () => {
    const root = tempDir();
    const straight = await cli('train', ...RUN, '--epochs', '2', '--out', join(root, 'straight'), '--json');
    expect(straight.code).toBe(0);
    const first = await cli('train', ...RUN, '--epochs', '1', '--out', join(root, 'resumed'));
    expect(first.code).toBe(0);
    const resumed = await cli('train', '--resume', join(root, 'resumed', 'checkpoint'), '--epochs', '2', '--json');
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.code).toBe(0);
    const a = JSON.parse(straight.stdout);
    const b = JSON.parse(resumed.stdout);
    expect(b.outDir).toBe(join(root, 'resumed'));
    expect(b.epochs).toBe(2);
    expect(b.history).toHaveLength(2);
    expect(b.seed).toBe(7);
    expect(weightsOf(join(root, 'resumed', 'model')).equals(weightsOf(join(root, 'straight', 'model')))).toBe(true);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.history[1].loss).toBe(a.history[1].loss);
  });

  it('refuses to resume with a different batch size or a finished epoch count (exit 2)', async () => {
    const root = tempDir();
    expect((await cli('train', ...SMALL, '--epochs', '1', '--out', root)).code).toBe(0);
    const checkpoint = join(root, 'checkpoint');
    const batch = await cli('train', '--resume', checkpoint, '--epochs', '2', '--batch-size', '64');
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/--batch-size 64 differs from the checkpoint's 32/);
    // An IDX run has no image size or channels to set: a flag for them would be silently ignored.
    const size = await cli('train', '--resume', checkpoint, '--epochs', '2', '--image-size', '28');
    expect(size.code).toBe(2);
    expect(size.stderr).toContain("--image-size 28x28 differs from the checkpoint's (unset); drop --image-size");
    const done = await cli('train', '--resume', checkpoint, '--epochs', '1');
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/already finished 1 epoch/);
    const notCheckpoint = await cli('train', '--resume', join(root, 'nowhere'), '--epochs', '2');
    expect(notCheckpoint.code).toBe(1);
    expect(notCheckpoint.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('Ctrl-C keeps the last finished epoch\'s checkpoint, says how to resume and exits 130', async () => {
    const out = join(tempDir(), 'interrupted');
    const { child, done } = start(['train', '--limit', '1500', '--test-limit', '100', '--epochs', '50', '--out', out]);
    const manifest = join(out, 'checkpoint', 'model.json');
    const deadline = Date.now() + 60_000;
    while (!existsSync(manifest) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(manifest)).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`resume with: backprop train --resume ${join(out, 'checkpoint')} --epochs 50`);
    expect(existsSync(join(out, 'model'))).toBe(false);
    const meta = JSON.parse(readFileSync(manifest, 'utf8')).metadata;
    expect(meta.epoch).toBeGreaterThanOrEqual(1);
    expect(meta.history).toHaveLength(meta.epoch);
    // The checkpoint loads and evaluates, and training continues from it.
    const e = await cli('evaluate', '--model-dir', join(out, 'checkpoint'), '--limit', '100', '--json');
    expect(e.code).toBe(0);
    const again = await cli('train', '--resume', join(out, 'checkpoint'), '--epochs', String(meta.epoch + 1), '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).epochs).toBe(meta.epoch + 1);
  });
});
