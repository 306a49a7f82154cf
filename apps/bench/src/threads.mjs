// Backprop threads = 1 vs 2 on Model A (or B): training and inference samples/s, each
// measurement in its own child process, alternating the two so a shared machine's drift
// hits both alike. `node src/threads.mjs [--model A|B] [--rounds 3]` (build the workspace first).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { batcher, mnist } from './data.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const model = opt('--model', 'A');
const BATCH = 32, INFER_BATCH = 256, TRAIN_IMAGES = 2000, INFER_IMAGES = 5120;
const median = (a) => [...a].sort((p, q) => p - q)[(a.length - 1) >> 1];

if (args.includes('--child')) {
  const lib = await import(`./libs/${opt('--child')}.mjs`);
  await lib.init();
  const data = await mnist({ trainLimit: TRAIN_IMAGES, testLimit: INFER_IMAGES });
  const next = batcher(INFER_BATCH);
  const net = lib.build(model, 1);
  const train = () => {
    const t0 = performance.now();
    for (let from = 0; from + BATCH <= TRAIN_IMAGES; from += BATCH) {
      const b = next(data.train, from, BATCH);
      net.trainBatch(b.x, b.y, BATCH);
    }
    return (TRAIN_IMAGES - (TRAIN_IMAGES % BATCH)) / ((performance.now() - t0) / 1000);
  };
  const infer = () => {
    const t0 = performance.now();
    for (let from = 0; from < INFER_IMAGES; from += INFER_BATCH) {
      const b = next(data.test, from, INFER_BATCH);
      net.predictCorrect(b.x, b.labels, INFER_BATCH);
    }
    return INFER_IMAGES / ((performance.now() - t0) / 1000);
  };
  const w = next(data.train, 0, BATCH);
  for (let i = 0; i < 3; i++) net.trainBatch(w.x, w.y, BATCH); // warm-up
  const c0 = process.cpuUsage(), t0 = performance.now();
  const trains = [train(), train(), train()];
  const cpu = process.cpuUsage(c0);
  const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  infer();
  const infers = [infer(), infer(), infer()];
  console.log(`RESULT ${JSON.stringify({ train: median(trains), infer: median(infers), cores })}`);
  process.exit(0);
}

const rounds = Number(opt('--rounds', 3));
const libs = ['backprop-cpu', 'backprop-cpu-threads'];
const results = Object.fromEntries(libs.map((l) => [l, []]));
for (let r = 0; r < rounds; r++) {
  for (const lib of libs) {
    const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', lib, '--model', model], { encoding: 'utf8' });
    const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`${lib}: ${res.stderr}`);
    const v = JSON.parse(line.slice(7));
    results[lib].push(v);
    console.log(`round ${r + 1} ${lib}: train ${v.train.toFixed(0)} samples/s (CPU ${v.cores.toFixed(2)} cores), inference ${v.infer.toFixed(0)} samples/s`);
  }
}
const med = (lib, k) => median(results[lib].map((v) => v[k]));
for (const k of ['train', 'infer']) {
  const a = med(libs[0], k), b = med(libs[1], k);
  console.log(`Model ${model} ${k}: threads=1 ${a.toFixed(0)}, threads=2 ${b.toFixed(0)} samples/s (×${(b / a).toFixed(2)})`);
}
