// Turns worker results into rows { figure, better, values: { lib: number|null }, ratios: { peer: number|null } }.
export const BACKPROP = 'backprop-cpu';
export const BACKPROP_WASM = 'backprop-wasm';
export const LIB_ORDER = ['backprop-cpu', 'backprop-cpu-threads', 'backprop-wasm', 'backprop-wasm-threads', 'tfjs-wasm', 'tfjs-cpu', 'convnetjs'];
/** Backprop's own columns (its backends, single thread and 2 threads): shown, but not peers to compare with. */
const isBackprop = (lib) => lib.startsWith('backprop-');
/** The wasm backend is compared with the other SIMD wasm library and with Backprop's CPU reference. */
const WASM_BASELINES = ['tfjs-wasm', BACKPROP];
const ratio = (a, b) => (a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b);

const FIGURES = [
  ['kernels', (r) => r.kernels?.convForward?.ms, 'paper conv fwd, batch 32 (ms)', 'lower'],
  ['kernels', (r) => r.kernels?.convFilterGrad?.ms, 'paper conv filter grad (ms)', 'lower'],
  ['kernels', (r) => r.kernels?.convFilterGradPooled?.ms, 'paper conv filter grad, dy as behind max pool + ReLU (ms)', 'lower'],
  ['kernels', (r) => r.kernels?.convInputGrad?.ms, 'paper conv input grad (ms)', 'lower'],
  ['kernels', (r) => r.kernels?.convBothGrads?.ms ?? sum(r.kernels?.convFilterGrad?.ms, r.kernels?.convInputGrad?.ms), 'paper conv both grads (ms)', 'lower'],
  ['kernels', (r) => r.kernels?.matMul?.ms, 'matMul 256³ (ms)', 'lower'],
  ['kernels', (r) => r.kernels?.convForward?.gflops, 'paper conv fwd (GFLOP/s)', 'higher'],
  ['kernels', (r) => r.kernels?.convFilterGrad?.gflops, 'paper conv filter grad (GFLOP/s)', 'higher'],
  ['kernels', (r) => r.kernels?.convInputGrad?.gflops, 'paper conv input grad (GFLOP/s)', 'higher'],
  ['kernels', (r) => r.kernels?.matMul?.gflops, 'matMul 256³ (GFLOP/s)', 'higher'],
  ['A', (r) => r.train?.samplesPerSecond, 'Model A train (samples/s)', 'higher'],
  ['A', (r) => r.infer?.samplesPerSecond, 'Model A inference (samples/s)', 'higher'],
  ['A', (r) => r.epoch?.seconds, 'Model A one epoch (s)', 'lower'],
  ['A', (r) => (r.epoch?.testAccuracy === undefined ? undefined : 100 * r.epoch.testAccuracy), 'Model A test acc. after 1 epoch (%)', 'higher'],
  ['A', (r) => r.peakRssMB, 'Model A peak RSS (MB)', 'lower'],
  ['B', (r) => r.train?.samplesPerSecond, 'Model B train (samples/s)', 'higher'],
  ['B', (r) => r.infer?.samplesPerSecond, 'Model B inference (samples/s)', 'higher'],
  ['B', (r) => r.peakRssMB, 'Model B peak RSS (MB)', 'lower'],
];

function sum(a, b) {
  return a === undefined || b === undefined ? undefined : a + b;
}

export function rowsFrom(results) {
  const libs = LIB_ORDER.filter((l) => results.some((r) => r.lib === l));
  const rows = [];
  for (const [task, get, figure, better] of FIGURES) {
    const values = {};
    for (const lib of libs) {
      const r = results.find((x) => x.task === task && x.lib === lib && !x.error && !x.skipped);
      const v = r ? get(r) : undefined;
      values[lib] = v === undefined || Number.isNaN(v) ? null : v;
    }
    if (Object.values(values).every((v) => v === null)) continue;
    const ratios = {};
    for (const lib of libs) {
      if (isBackprop(lib)) continue;
      ratios[lib] = ratio(values[BACKPROP], values[lib]);
    }
    const row = { figure, better, values, ratios };
    if (libs.includes(BACKPROP_WASM)) {
      row.wasmRatios = {};
      for (const lib of WASM_BASELINES) if (libs.includes(lib)) row.wasmRatios[lib] = ratio(values[BACKPROP_WASM], values[lib]);
    }
    rows.push(row);
  }
  return rows;
}

const fmt = (v) => (v === null ? '—' : v >= 1000 ? v.toFixed(0) : v >= 100 ? v.toFixed(1) : v >= 10 ? v.toFixed(2) : v.toFixed(3));
const fmtRatio = (v) => (v === null ? '—' : `${v.toFixed(2)}×`);

function grid(report) {
  const rows = report.table;
  const libs = rows.length ? Object.keys(rows[0].values) : [];
  const peers = libs.filter((l) => !isBackprop(l));
  const wasmBaselines = rows.length && rows[0].wasmRatios ? Object.keys(rows[0].wasmRatios) : [];
  const head = ['figure', ...libs, ...peers.map((p) => `BP/${p}`), ...wasmBaselines.map((p) => `wasm/${p}`)];
  const body = rows.map((r) => [
    `${r.figure} ${r.better === 'higher' ? '↑' : '↓'}`,
    ...libs.map((l) => fmt(r.values[l])),
    ...peers.map((p) => fmtRatio(r.ratios[p])),
    ...wasmBaselines.map((p) => fmtRatio(r.wasmRatios[p])),
  ]);
  return { head, body };
}

function notes(report) {
  const lines = [];
  for (const [lib, i] of Object.entries(report.libraries)) lines.push(`${lib}: ${i.label} ${i.version} — ${i.notes}`);
  for (const r of report.results) {
    if (r.error) lines.push(`${r.lib} ${r.task}: FAILED — ${r.error}`);
    if (r.skipped) lines.push(`${r.lib} ${r.task}: ${r.skipped}`);
    if (r.train?.cappedBy) lines.push(`${r.lib} ${r.task}: training passes cut to ${r.train.imagesPerPass} images (${r.train.cappedBy})`);
    if (r.infer?.cappedBy) lines.push(`${r.lib} ${r.task}: inference over ${r.infer.images} images (${r.infer.cappedBy})`);
    if (r.epoch?.skipped) lines.push(`${r.lib} ${r.task}: epoch skipped, ${r.epoch.skipped}`);
    if (r.epoch?.images !== undefined && r.epoch.images < 59000) lines.push(`${r.lib} ${r.task}: "epoch" = ${r.epoch.images} images, test accuracy on ${r.epoch.testImages} (quick run)`);
    if (r.kernels?.convBothGrads) lines.push(`${r.lib}: its conv backward computes both gradients in one pass (row "both grads")`);
  }
  lines.push('BP/peer = Backprop ÷ peer: for ↑ figures > 1 means Backprop is better, for ↓ figures < 1 means Backprop is better.');
  if (report.table[0]?.wasmRatios) lines.push('wasm/x = backprop-wasm ÷ x (the same reading: ↑ > 1 or ↓ < 1 means backend-wasm is better).');
  return lines;
}

export function formatTable(report) {
  const { head, body } = grid(report);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `Backprop benchmark${report.quick ? ' (--quick smoke run: tiny sizes, figures not comparable)' : ''} — node ${report.machine.node}, ${report.machine.cpus} CPUs (${report.machine.cpu}), load ${report.machine.loadavg.map((v) => v.toFixed(2)).join(' ')}`,
    report.recipe,
    '',
    line(head),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    ...notes(report).map((n) => `* ${n}`),
  ].join('\n');
}

export function formatMarkdown(report) {
  const { head, body } = grid(report);
  return [
    `# Backprop benchmark${report.quick ? ' (quick smoke run)' : ''}`,
    '',
    `${report.date} — node ${report.machine.node}, ${report.machine.cpus} CPUs (${report.machine.cpu}), load average ${report.machine.loadavg.map((v) => v.toFixed(2)).join(' ')}.`,
    '',
    report.recipe + '.',
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...notes(report).map((n) => `- ${n}`),
    '',
  ].join('\n');
}
