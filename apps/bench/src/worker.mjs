// One library, one task, in its own process: `node src/worker.mjs <lib> <A|B|kernels> [--quick] [--full]`.
// Prints one line `BENCH_RESULT <json>` on stdout.
import { batcher, mnist } from './data.mjs';

const [libName, task] = process.argv.slice(2);
const quick = process.argv.includes('--quick');
const full = process.argv.includes('--full');
const BATCH = 32;
const INFER_BATCH = 256;

const cfg = quick
  ? { trainImages: 32, passes: 3, inferImages: 1280, epochImages: 512, testImages: 512, passCapS: 3, inferCapS: 3, epochCapS: 15, kernelRoundMs: 20, kernelRounds: 3 }
  : { trainImages: 2000, passes: 3, inferImages: 10000, epochImages: 60000, testImages: 10000, passCapS: 45, inferCapS: 60, epochCapS: full ? Infinity : 240, kernelRoundMs: 150, kernelRounds: 5 };

const now = () => performance.now();
const median = (a) => { const s = [...a].sort((p, q) => p - q); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const lib = await import(`./libs/${libName}.mjs`);
const info = await lib.init();
// A library that cannot run in this build (e.g. a backend feature not there yet) says why.
if (info.unavailable) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ lib: lib.name, label: lib.label, task, unavailable: info.unavailable, quick })}\n`);
  process.exit(0);
}
const result = { lib: lib.name, label: lib.label, task, version: info.version, notes: info.notes, quick };

async function trainOver(model, set, count, next) {
  const t0 = now();
  let loss = 0;
  for (let from = 0; from + BATCH <= count; from += BATCH) {
    const b = next(set, from, BATCH);
    loss = await model.trainBatch(b.x, b.y, BATCH);
  }
  return { seconds: (now() - t0) / 1000, loss };
}

function accuracyOver(model, set, count, next) {
  let correct = 0;
  for (let from = 0; from < count; from += INFER_BATCH) {
    const n = Math.min(INFER_BATCH, count - from);
    const b = next(set, from, n);
    correct += model.predictCorrect(b.x, b.labels, n);
  }
  return correct;
}

if (task === 'A' || task === 'B') {
  const data = await mnist({ trainLimit: task === 'A' ? cfg.epochImages : cfg.trainImages, testLimit: Math.max(cfg.inferImages, cfg.testImages) });
  const next = batcher(INFER_BATCH);
  // ---- training throughput: warm-up batch, then ≥3 timed passes over the first trainImages
  let model = lib.build(task, 1);
  await trainOver(model, data.train, BATCH, next); // warm-up (JIT, buffer pools)
  const probe = await trainOver(model, data.train, BATCH, next);
  let images = cfg.trainImages - (cfg.trainImages % BATCH);
  const capped = Math.floor(cfg.passCapS / probe.seconds) * BATCH;
  if (capped < images) images = Math.max(BATCH, capped);
  const rates = [];
  for (let p = 0; p < cfg.passes; p++) rates.push(images / (await trainOver(model, data.train, images, next)).seconds);
  result.train = { samplesPerSecond: median(rates), passes: rates, imagesPerPass: images, cappedBy: images < cfg.trainImages - (cfg.trainImages % BATCH) ? `time cap ${cfg.passCapS} s per pass` : undefined };
  // ---- inference throughput: batch 256 over the test images, after warm-up batches. One is
  // not enough: V8 runs wasm (ours and tfjs-wasm's) in its baseline tier until the hot
  // functions are recompiled in the background, so the 2nd batch still took 2–4× the steady
  // time (Model B: ~200, ~100, then ~45 ms). Up to 3 batches, at most ~2 s, for every library.
  let perBatch = 0;
  for (let warm = 0, spent = 0; warm < 3 && spent < 2; warm++) {
    const w0 = now();
    accuracyOver(model, data.test, INFER_BATCH, next);
    perBatch = (now() - w0) / 1000;
    spent += perBatch;
  }
  let inferImages = cfg.inferImages;
  const inferCapped = Math.floor(cfg.inferCapS / perBatch) * INFER_BATCH;
  if (inferCapped < inferImages) inferImages = Math.max(INFER_BATCH, inferCapped);
  const i0 = now();
  const c0 = process.cpuUsage();
  accuracyOver(model, data.test, inferImages, next);
  const c1 = process.cpuUsage(c0);
  // CPU seconds of the whole process (workers included): on a shared machine less noisy than wall time.
  result.infer = { samplesPerSecond: inferImages / ((now() - i0) / 1000), cpuSeconds: (c1.user + c1.system) / 1e6, images: inferImages, batch: INFER_BATCH, cappedBy: inferImages < cfg.inferImages ? `time cap ${cfg.inferCapS} s` : undefined };
  // ---- one epoch from fresh weights (Model A), then the test accuracy
  if (task === 'A') {
    const epochImages = Math.min(cfg.epochImages, data.train.count) - (Math.min(cfg.epochImages, data.train.count) % BATCH);
    const estimate = epochImages / result.train.samplesPerSecond;
    if (estimate > cfg.epochCapS) {
      result.epoch = { skipped: `estimated ${estimate.toFixed(0)} s > ${cfg.epochCapS} s cap (run with --full)`, estimatedSeconds: estimate };
    } else {
      model = lib.build(task, 1);
      const e = await trainOver(model, data.train, epochImages, next);
      const testImages = Math.min(cfg.testImages, data.test.count);
      const correct = accuracyOver(model, data.test, testImages, next);
      result.epoch = { seconds: e.seconds, images: epochImages, samplesPerSecond: epochImages / e.seconds, testAccuracy: correct / testImages, testImages, lastLoss: e.loss };
    }
  }
} else if (task === 'kernels') {
  const fns = lib.kernels();
  const CONV_FLOPS = 2 * 32 * 8 * 24 * 24 * 25;
  // The pooled-gradient row counts the dense FLOPs too, so its GFLOP/s compare with the dense row.
  const flops = { convForward: CONV_FLOPS, convFilterGrad: CONV_FLOPS, convFilterGradPooled: CONV_FLOPS, convInputGrad: CONV_FLOPS, convBothGrads: 2 * CONV_FLOPS, matMul: 2 * 256 ** 3 };
  result.kernels = {};
  for (const [k, fn] of Object.entries(fns)) {
    const t = now();
    fn(); fn();
    const once = Math.max((now() - t) / 2, 1e-3);
    const reps = Math.max(1, Math.round(cfg.kernelRoundMs / once));
    for (let i = 0; i < Math.min(reps, 20); i++) fn(); // warm-up
    const rounds = [];
    for (let r = 0; r < cfg.kernelRounds; r++) {
      const t1 = now();
      for (let i = 0; i < reps; i++) fn();
      rounds.push((now() - t1) / reps);
    }
    const ms = median(rounds);
    result.kernels[k] = { ms, gflops: flops[k] / (ms * 1e6) };
  }
}
result.peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
