import type { EpochLogs } from '@backprop/layers';
import { curveCharts } from './charts.js';

export interface ReportImage {
  src: string;
  caption: string;
}

export interface ReportData {
  title: string;
  /** Key facts shown in a table at the top. */
  facts: [string, string][];
  summary: string;
  history: EpochLogs[];
  confusion: number[][];
  /** Names of the confusion matrix's classes (an image folder's); indices when absent. */
  classNames?: string[];
  misclassified: ReportImage[];
  misclassifiedTotal: number;
  kernels: ReportImage[];
  kernelNote: string;
  featureDigit?: ReportImage;
  featureMaps: ReportImage[];
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON safe to place inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

function gallery(images: ReportImage[], size: number): string {
  return `<div class="grid">${images
    .map((im) => `<figure><img src="${im.src}" width="${size}" height="${size}" alt="${escapeHtml(im.caption)}"><figcaption>${escapeHtml(im.caption)}</figcaption></figure>`)
    .join('')}</div>`;
}

function confusionTable(matrix: number[][], classNames?: string[]): string {
  const name = (i: number): string => escapeHtml(classNames?.[i] ?? String(i));
  const max = Math.max(1, ...matrix.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const head = `<tr><th>actual ↓ / predicted →</th>${matrix.map((_, j) => `<th>${name(j)}</th>`).join('')}<th>accuracy</th></tr>`;
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row
      .map((v, j) => {
        const style = i === j ? 'background:#d9f2d9' : v ? `background:rgba(214,39,40,${(0.15 + 0.6 * (v / max)).toFixed(2)})` : '';
        return `<td style="${style}">${v}</td>`;
      })
      .join('');
    return `<tr><th>${name(i)}</th>${cells}<td>${total ? `${((100 * row[i]) / total).toFixed(1)}%` : '–'}</td></tr>`;
  });
  return `<table class="confusion">${head}${rows.join('')}</table>`;
}

/** The self-contained training report: everything (Chart.js, data, images) is inlined. */
export function renderReport(data: ReportData, chartJs: string): string {
  const charts = curveCharts(data.history);
  const facts = data.facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const sections: string[] = [];
  sections.push(`<section><h2>Training curves</h2>${
    data.history.length
      ? '<div class="charts"><div><canvas id="loss"></canvas></div><div><canvas id="accuracy"></canvas></div></div>'
      : '<p>No finished epochs.</p>'
  }</section>`);
  sections.push(`<section><h2>Confusion matrix (test set)</h2>${confusionTable(data.confusion, data.classNames)}</section>`);
  sections.push(
    `<section><h2>Misclassified test digits</h2><p>${data.misclassifiedTotal} of the test images are misclassified${
      data.misclassifiedTotal > data.misclassified.length ? `; the first ${data.misclassified.length} are shown` : ''
    } (caption: true → predicted, confidence).</p>${gallery(data.misclassified, 56)}</section>`,
  );
  if (data.kernels.length) {
    sections.push(`<section><h2>Learned kernels of the first convolution layer</h2><p>${escapeHtml(data.kernelNote)}</p>${gallery(data.kernels, 60)}</section>`);
  }
  if (data.featureDigit && data.featureMaps.length) {
    sections.push(
      `<section><h2>Feature maps of one test digit after the first convolution layer</h2>${gallery([data.featureDigit], 84)}${gallery(data.featureMaps, 84)}</section>`,
    );
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } th, td { padding: 3px 8px; border: 1px solid #ddd; text-align: right; }
table.facts th { text-align: left; background: #f6f6f6; } table.facts td { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; }
figure { margin: 0; text-align: center; font-size: 11px; }
img { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<table class="facts">${facts}</table>
<h2>Model</h2>
<pre>${escapeHtml(data.summary)}</pre>
${sections.join('\n')}
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>
const charts = ${scriptJson(charts)};
if (typeof Chart !== 'undefined') {
  for (const id of ['loss', 'accuracy']) {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, charts[id]);
  }
}
</script>
</body>
</html>
`;
}
