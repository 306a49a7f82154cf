import { type EpochLogs, type Sequential, writeFileAtomic } from '@backprop/layers';
import { argMax, type Head, probabilities } from '../model.js';
import { chartJsSource } from './charts.js';
import { renderReport, type ReportData, type ReportImage } from './html.js';
import type { CliImageSet } from '../data.js';
import { dataUri, imagePng, normalisedPng } from './png.js';

export interface ReportInput {
  model: Sequential;
  head: Head;
  test: CliImageSet;
  /** Class names (an image folder's), shown instead of class indices. */
  classNames?: string[];
  /** Model outputs on the test set, (N, K) flat. */
  outputs: ArrayLike<number>;
  confusion: number[][];
  history: EpochLogs[];
  facts: [string, string][];
  title: string;
  maxMisclassified?: number;
}

function misclassified(input: ReportInput): { images: ReportImage[]; total: number } {
  const { test, outputs } = input;
  const k = outputs.length / test.count;
  const size = test.channels * test.rows * test.cols;
  const name = (label: number): string => input.classNames?.[label] ?? String(label);
  const images: ReportImage[] = [];
  let total = 0;
  for (let n = 0; n < test.count; n++) {
    const predicted = argMax(outputs, n * k, k);
    if (predicted === test.labels[n]) continue;
    total++;
    if (images.length >= (input.maxMisclassified ?? 60)) continue;
    const p = probabilities(Array.from({ length: k }, (_, j) => outputs[n * k + j]), input.head)[predicted];
    const pixels = test.images.subarray(n * size, (n + 1) * size);
    images.push({ src: dataUri(imagePng(pixels, test.channels, test.cols, test.rows, 2)), caption: `#${n}: ${name(test.labels[n])} → ${name(predicted)} (${(p * 100).toFixed(0)}%)` });
  }
  return { images, total };
}

/** The first Conv2D layer's kernels (F, C, kh, kw), one normalised PNG per filter and channel. */
async function kernels(model: Sequential): Promise<{ images: ReportImage[]; note: string; convIndex: number }> {
  const convIndex = model.layers.findIndex((l) => l.className === 'Conv2D');
  if (convIndex < 0) return { images: [], note: '', convIndex };
  const layer = model.layers[convIndex];
  const kernel = layer.params().find((p) => p.name.endsWith('/kernel'));
  if (!kernel) return { images: [], note: '', convIndex };
  const [f, c, kh, kw] = kernel.value.shape;
  const values = await kernel.value.data();
  const scale = Math.max(1, Math.round(60 / Math.max(kh, kw)));
  const images: ReportImage[] = [];
  for (let i = 0; i < f; i++) {
    for (let ch = 0; ch < c; ch++) {
      const offset = (i * c + ch) * kh * kw;
      images.push({ src: dataUri(normalisedPng(values.subarray(offset, offset + kh * kw), kw, kh, scale)), caption: c > 1 ? `filter ${i} ch ${ch}` : `filter ${i}` });
    }
  }
  return { images, note: `${layer.name}: ${f} kernels of ${kh}×${kw} over ${c} channel(s), each scaled to its own min (black) … max (white).`, convIndex };
}

/** Runs one test digit through the layers up to the first conv layer and renders each output channel. */
async function featureMaps(model: Sequential, test: CliImageSet, convIndex: number, classNames?: string[]): Promise<{ digit?: ReportImage; maps: ReportImage[] }> {
  if (convIndex < 0 || test.count === 0) return { maps: [] };
  const size = test.channels * test.rows * test.cols;
  const pixels = test.images.subarray(0, size);
  const registry = model.registry;
  const out = registry.scope(() => {
    let x = registry.makeTensor(pixels, [1, test.channels, test.rows, test.cols], model.dtype);
    for (let i = 0; i <= convIndex; i++) x = model.layers[i].forward(x, { training: false });
    return x;
  });
  const shape = [...out.shape];
  let values: Float32Array | Float64Array;
  try {
    values = (await out.data()) as Float32Array | Float64Array; // asynchronous: works on every backend
  } finally {
    out.dispose();
  }
  const [, channels, h, w] = shape;
  const scale = Math.max(1, Math.round(84 / Math.max(h, w)));
  const maps: ReportImage[] = [];
  for (let ch = 0; ch < channels; ch++) {
    maps.push({ src: dataUri(normalisedPng(values.subarray(ch * h * w, (ch + 1) * h * w), w, h, scale)), caption: `map ${ch}` });
  }
  const label = classNames?.[test.labels[0]] ?? String(test.labels[0]);
  return { digit: { src: dataUri(imagePng(pixels, test.channels, test.cols, test.rows, 3)), caption: `test image #0 (label ${label})` }, maps };
}

/** Builds the report and writes it atomically (temporary file + rename). */
export async function writeReport(file: string, input: ReportInput): Promise<void> {
  const wrong = misclassified(input);
  const k = await kernels(input.model);
  const maps = await featureMaps(input.model, input.test, k.convIndex, input.classNames);
  const data: ReportData = {
    title: input.title,
    facts: input.facts,
    summary: input.model.summary(),
    history: input.history,
    confusion: input.confusion,
    classNames: input.classNames,
    misclassified: wrong.images,
    misclassifiedTotal: wrong.total,
    kernels: k.images,
    kernelNote: k.note,
    featureDigit: maps.digit,
    featureMaps: maps.maps,
  };
  await writeFileAtomic(file, renderReport(data, await chartJsSource()));
}
