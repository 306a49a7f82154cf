/**
 * Fuzzing of the model loaders (fromArtifacts, loadModel) with mutated copies of a real
 * saved model. Every outcome must be a BackpropError or a correct load; any other error,
 * a load that ignores a checksum, a load that does not read what the file says, or a
 * leaked tensor fails the test.
 *
 * The suite runs a short, fixed-seed pass. The same code is the long run:
 *
 *   cd packages/layers && FUZZ_ITERATIONS=20000 npx vitest run src/fuzz-loaders.test.ts
 *
 * (FUZZ_SEED picks another seed; FUZZ_REPORT=1 prints the outcome counts of a short run too.)
 * FUZZ_ITERATIONS mutated manifests are loaded, and a quarter as many mutated weight files.
 */
import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, type Random, Registry, sizeOfShape } from '@backprop/tensor';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool2D,
  BatchNormalization,
  Conv2D,
  crc32,
  Dense,
  Dropout,
  Flatten,
  fromArtifacts,
  layersPlugin,
  LeakyReLU,
  loadModel,
  manifestChecksum,
  MaxPool2D,
  type ModelManifest,
  RandomRotation,
  RandomTranslation,
  saveModel,
  Sequential,
} from './index.js';

const ITERATIONS = positiveInt(process.env.FUZZ_ITERATIONS, 1200);
const SEED = positiveInt(process.env.FUZZ_SEED, 20_240_611);
const REPORT = process.env.FUZZ_REPORT === '1' || process.env.FUZZ_ITERATIONS !== undefined;
// About 1 ms per load on a laptop core; generous so a busy CI machine does not time out.
const TIMEOUT_MS = Math.max(60_000, ITERATIONS * 25);

function positiveInt(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

type Json = null | boolean | number | string | undefined | Json[] | { [key: string]: Json };
type Path = (string | number)[];

interface Original {
  model: Sequential;
  manifest: ModelManifest;
  text: string;
  bytes: Uint8Array;
  input: { values: Float32Array; shape: number[] };
  predictions: Uint8Array;
  topology: string;
}

let original: Original;
let work: string;
const outcomes = { manifests: new Map<string, number>(), weights: new Map<string, number>() };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'backprop-fuzz-'));
  // Every layer type with options worth breaking, trained a few steps so Adam has state.
  const model = new Sequential({
    registry,
    name: 'fuzzed',
    inputShape: [1, 6, 6],
    seed: 7,
    layers: [
      new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.2, seed: 3 }),
      new RandomRotation({ factor: 0.05 }),
      new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new BatchNormalization({ momentum: 0.9, epsilon: 0.01 }),
      new MaxPool2D({ poolSize: 2, strides: 1 }),
      new Conv2D({ filters: 2, kernelSize: [2, 1], strides: [1, 2], padding: [1, 0], activation: 'leakyRelu', alpha: 0.2 }),
      new AvgPool2D({ poolSize: 2 }),
      new LeakyReLU({ alpha: 0.1 }),
      new Flatten(),
      new Dropout({ rate: 0.25 }),
      new Dense({ units: 4, activation: 'tanh' }),
      new Dense({ units: 3, activation: 'softmax', useBias: true }),
    ],
  });
  const rng = createRandom(11);
  const x = { values: Float32Array.from({ length: 6 * 36 }, () => rng.next()), shape: [6, 1, 6, 6] };
  await model.fit(x, { values: [0, 1, 2, 1, 0, 2], shape: [6] }, { loss: 'categoricalCrossentropy', optimizer: 'adam', batchSize: 3, seed: 1 });
  const dir = join(work, 'original');
  const { manifestPath, weightsPath } = await saveModel(model, dir, { metadata: { epoch: 1, history: [0.5, 0.25], note: 'fuzz' } });
  const text = await readFile(manifestPath, 'utf8');
  const bytes = new Uint8Array(await readFile(weightsPath));
  const input = { values: x.values.slice(0, 72), shape: [2, 1, 6, 6] };
  const out = model.predict(input);
  original = { model, manifest: JSON.parse(text), text, bytes, input, predictions: bytesOf(out.dataSync()), topology: canonical(model.toJSON()) };
  out.dispose();
});

afterAll(async () => {
  original?.model.dispose();
  await rm(work, { recursive: true, force: true });
  if (REPORT) {
    for (const [name, counts] of Object.entries(outcomes)) {
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      // Per kind of mutation: how many loads failed with a BackpropError, loaded the original, or loaded the (valid) model the file describes.
      const summary = new Map<string, Map<string, number>>();
      for (const [key, n] of counts) {
        const [kind, outcome] = key.split(': '); // the detail after a second ': ' is left out
        const row = summary.get(kind) ?? new Map<string, number>();
        row.set(outcome, (row.get(outcome) ?? 0) + n);
        summary.set(kind, row);
      }
      const table = [...summary].map(([kind, row]) => `  ${kind.padEnd(9)} ${[...row].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${n} ${o}`).join(', ')}`);
      const lines = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${String(v).padStart(6)}  ${k}`);
      console.log(`fuzz ${name} (seed ${SEED}): ${total} cases\n${table.join('\n')}\nin detail:\n${lines.join('\n')}`);
    }
  }
});

describe('fuzzing the loaders with mutated saved models', () => {
  it(`${ITERATIONS} mutated manifests: each a BackpropError or a correct load`, async () => {
    const rng = createRandom(SEED);
    const failures: string[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const kind = pick(rng, ['sealed', 'sealed', 'resealed', 'legacy', 'text'] as const);
      const mutations: string[] = [];
      let manifestValue: unknown;
      let manifestText: string | undefined;
      if (kind === 'text') {
        manifestText = mutateText(rng, original.text, mutations);
      } else {
        const m = structuredClone(original.manifest) as unknown as Json;
        const count = 1 + Math.floor(rng.next() * rng.next() * 4);
        for (let k = 0; k < count; k++) mutateJson(rng, m, mutations);
        if (kind === 'resealed' && isObject(m)) m.manifestCrc32 = safeChecksum(m);
        if (kind === 'legacy' && isObject(m)) delete m.manifestCrc32;
        manifestValue = m;
      }
      const outcome = await attempt(rng, kind, manifestValue, manifestText, original.bytes);
      count(outcomes.manifests, `${kind}: ${outcome.label}`, outcome.detail);
      if (outcome.failure) failures.push(`#${i} ${kind} [${mutations.join('; ')}]: ${outcome.failure}`);
    }
    expect(failures.slice(0, 10), `${failures.length} failing cases of ${ITERATIONS}`).toEqual([]);
  }, TIMEOUT_MS);

  it(`${Math.ceil(ITERATIONS / 4)} mutated weight files: each a BackpropError or a correct load`, async () => {
    const rng = createRandom(SEED ^ 0x5bd1e995);
    const failures: string[] = [];
    const n = Math.ceil(ITERATIONS / 4);
    for (let i = 0; i < n; i++) {
      const kind = pick(rng, ['unsealed', 'resealed'] as const);
      const mutations: string[] = [];
      const bytes = mutateBytes(rng, original.bytes, mutations);
      let manifest = structuredClone(original.manifest);
      if (kind === 'resealed') {
        // As a writer would describe these bytes: the checksums no longer tell they changed.
        const crc = hex(crc32(bytes));
        manifest.weights = { ...manifest.weights, crc32: crc, file: `weights-${crc}.bin`, byteLength: bytes.byteLength };
        manifest.manifestCrc32 = manifestChecksum(manifest);
      } else if (rng.next() < 0.3) {
        manifest = { ...manifest, manifestCrc32: undefined };
      }
      const outcome = await attempt(rng, kind, manifest, undefined, bytes);
      count(outcomes.weights, `${kind}: ${outcome.label}`, outcome.detail);
      if (outcome.failure) failures.push(`#${i} ${kind} [${mutations.join('; ')}]: ${outcome.failure}`);
    }
    expect(failures.slice(0, 10), `${failures.length} failing cases of ${n}`).toEqual([]);
  }, TIMEOUT_MS);
});

/**
 * Loads the mutated artifacts, in memory (as they are, or after a JSON round trip as a
 * file would give them) or from a directory, and judges the outcome.
 */
async function attempt(rng: Random, kind: string, manifestValue: unknown, manifestText: string | undefined, bytes: Uint8Array): Promise<{ label: string; detail?: string; failure?: string }> {
  const tensorsBefore = registry.memory().numTensors;
  const viaDisk = manifestText !== undefined || rng.next() < 0.15;
  let described: unknown = manifestValue;
  let model: Sequential | undefined;
  try {
    if (viaDisk) {
      const dir = join(work, 'case');
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      await writeDir(dir, manifestText ?? JSON.stringify(manifestValue), manifestValue, bytes);
      described = parseOrUndefined(manifestText ?? JSON.stringify(manifestValue));
      model = (await loadModel(dir, { registry })).model;
    } else {
      if (rng.next() < 0.5) described = parseOrUndefined(JSON.stringify(manifestValue));
      model = fromArtifacts({ manifest: described as ModelManifest, weightData: bytes.slice().buffer }, { registry });
    }
  } catch (error) {
    const leaked = registry.memory().numTensors - tensorsBefore;
    if (!(error instanceof BackpropError)) return { label: 'OTHER ERROR', failure: `${(error as Error)?.name}: ${(error as Error)?.stack ?? error}` };
    if (leaked !== 0) return { label: 'leak', failure: `a failed load leaked ${leaked} tensors: ${error.message}` };
    if (isOriginal(described, bytes)) return { label: 'good file rejected', failure: `the unmodified model was rejected: ${error.message}` };
    return { label: 'BackpropError', detail: errorClass(error.message) };
  }
  try {
    return { label: judge(model, described, bytes) };
  } catch (error) {
    return { label: 'WRONG LOAD', failure: (error as Error).message };
  } finally {
    model.dispose();
    const leaked = registry.memory().numTensors - tensorsBefore;
    if (leaked !== 0) throw new Error(`kind ${kind}: a load leaked ${leaked} tensors after dispose`);
  }
}

/**
 * A successful load must be exactly what the file says: its checksums hold, every weight
 * and optimizer slot holds the bytes its spec points at (decoded here independently),
 * and when those equal the original's and the model describes itself as the original
 * did, its predictions are the original's, bit for bit.
 */
function judge(model: Sequential, described: unknown, bytes: Uint8Array): string {
  const m = described as ModelManifest;
  if (m.manifestCrc32 !== undefined && m.manifestCrc32 !== manifestChecksum(m)) throw new Error('loaded although manifestCrc32 does not match the manifest');
  if (hex(crc32(bytes)) !== m.weights.crc32) throw new Error('loaded although the weights fail their crc32');
  // The writer packs the tensors back to back: in a file that loads, every byte belongs to exactly one.
  const layout = m.weights.specs
    .map((s) => [s.offset, s.offset + sizeOfShape(s.shape) * (s.dtype === 'float64' ? 8 : 4)])
    .sort((a, b) => a[0] - b[0]);
  let end = 0;
  for (const [start, stop] of layout) {
    if (start !== end) throw new Error(`loaded although the specs ${start < end ? 'overlap' : 'leave a gap'} at byte ${start}`);
    end = stop;
  }
  if (end !== bytes.byteLength) throw new Error(`loaded although bytes [${end}, ${bytes.byteLength}) belong to no tensor`);
  const decoded = decode(m, bytes);
  const slots = new Set(m.optimizer?.slots.map((s) => `optimizer:${s}`) ?? []);
  const weights = model.getWeights();
  if (weights.length + slots.size !== decoded.size) throw new Error(`loaded ${weights.length} weights and ${slots.size} slots, the file has ${decoded.size} specs`);
  for (const w of weights) {
    const d = decoded.get(w.name);
    if (!d || !equalBytes(bytesOf(w.values), bytesOf(d))) throw new Error(`weight '${w.name}' is not what its spec points at`);
    for (const v of w.values) if (!Number.isFinite(v)) throw new Error(`weight '${w.name}' holds ${v}`);
  }
  if (m.optimizer) {
    if (model.optimizer?.iterations !== m.optimizer.iterations) throw new Error('optimizer iterations differ from the manifest');
    const state = model.optimizer.getState().tensors;
    for (const slot of m.optimizer.slots) {
      const values = state[slot]?.dataSync();
      if (!values || !equalBytes(bytesOf(values), bytesOf(decoded.get(`optimizer:${slot}`)!))) throw new Error(`slot '${slot}' is not what its spec points at`);
      for (const v of values) if (!Number.isFinite(v)) throw new Error(`slot '${slot}' holds ${v}`);
    }
  } else if (model.optimizer) {
    throw new Error('an optimizer appeared from a manifest without one');
  }
  // Each random layer's stream is where the manifest says (at 0 without randomStreams).
  for (const layer of model.layers) {
    if (layer.randomStreamPosition === undefined) continue;
    const saved = m.randomStreams?.[layer.name!] ?? 0;
    if (layer.randomStreamPosition !== saved) throw new Error(`layer '${layer.name}' resumes its random stream at ${layer.randomStreamPosition}, the manifest says ${saved}`);
  }
  const sameWeights = original.model.getWeights().every((w) => equalBytes(bytesOf(w.values), bytesOf(decoded.get(w.name) ?? new Float32Array())));
  if (!sameWeights || canonical(model.toJSON()) !== original.topology) return 'loaded the (valid) model the file describes';
  const out = model.predict(original.input);
  try {
    if (!equalBytes(bytesOf(out.dataSync()), original.predictions)) throw new Error('same topology and weights, different predictions');
  } finally {
    out.dispose();
  }
  return 'correct load (predictions equal the original)';
}

function decode(m: ModelManifest, bytes: Uint8Array): Map<string, Float32Array | Float64Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, Float32Array | Float64Array>();
  for (const spec of m.weights.specs) {
    const count = sizeOfShape(spec.shape);
    const values = spec.dtype === 'float64' ? new Float64Array(count) : new Float32Array(count);
    for (let i = 0; i < count; i++) {
      values[i] = spec.dtype === 'float64' ? view.getFloat64(spec.offset + 8 * i, true) : view.getFloat32(spec.offset + 4 * i, true);
    }
    out.set(spec.name, values);
  }
  return out;
}

async function writeDir(dir: string, text: string, manifest: unknown, bytes: Uint8Array): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), text);
  // The weights under the name the manifest gives, when it is a plain file name, else under the original one.
  const named = (manifest as ModelManifest | undefined)?.weights?.file;
  const file = typeof named === 'string' && /^[\w.-]+$/.test(named) && named !== 'model.json' ? named : original.manifest.weights.file;
  await writeFile(join(dir, file), bytes);
  for (const name of await readdir(dir)) if (name !== 'model.json' && name !== file) await unlink(join(dir, name));
}

// ---- mutations ---------------------------------------------------------------------------

const NUMBERS = [0, -0, 1, -1, 2, 3, 4, 7, 8, 18, 64, 0.5, 1.5, -1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 1e9, 1e308, -1e308, 5e-324,
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
const OTHERS: Json[] = [null, true, false, '', 'x', 'float64', 'float32', 'int8', 'same', 'valid', 'relu', 'softmax', 'linear', 'sgd', 'Dense',
  '00000000', [], [1], [3, 3], [1, 6, 6], {}, { a: 1 }, undefined];

/** One mutation somewhere in the manifest; `log` gets what was done. */
function mutateJson(rng: Random, root: Json, log: string[]): void {
  const all = paths(root);
  const op = rng.next();
  if (op < 0.1) {
    // Spec-level edits: reorder the specs, swap two offsets, or move one.
    const specs = (root as { weights?: { specs?: Json } }).weights?.specs;
    if (Array.isArray(specs) && specs.length > 1) {
      const a = Math.floor(rng.next() * specs.length);
      const b = Math.floor(rng.next() * specs.length);
      const sa = specs[a] as { offset?: Json };
      const sb = specs[b] as { offset?: Json };
      const which = rng.next();
      if (which < 0.34) {
        rng.shuffle(specs);
        log.push('shuffled specs');
      } else if (which < 0.67 && isObject(sa) && isObject(sb)) {
        [sa.offset, sb.offset] = [sb.offset, sa.offset];
        log.push(`swapped offsets of specs ${a} and ${b}`);
      } else if (isObject(sa) && typeof sa.offset === 'number') {
        sa.offset += pick(rng, [-8, -4, 4, 8, 1]);
        log.push(`moved spec ${a}`);
      }
      return;
    }
  }
  if (all.length === 0) return;
  const path = all[Math.floor(rng.next() * all.length)];
  const value = get(root, path);
  const where = path.join('.');
  const choice = rng.next();
  if (choice < 0.2) {
    remove(root, path);
    log.push(`deleted ${where}`);
  } else if (choice < 0.45 || typeof value !== 'number') {
    if (typeof value === 'string' && rng.next() < 0.5) {
      // Another string from the same manifest: a swapped name, dtype, activation, class…
      const strings = all.map((p) => get(root, p)).filter((v): v is string => typeof v === 'string');
      const next = pick(rng, strings);
      set(root, path, next);
      log.push(`${where} = ${JSON.stringify(next)}`);
    } else if (Array.isArray(value) && value.length > 1 && rng.next() < 0.4) {
      rng.shuffle(value);
      log.push(`shuffled ${where}`);
    } else {
      const next = rng.next() < 0.5 ? pick(rng, OTHERS) : pick(rng, NUMBERS);
      set(root, path, structuredClone(next));
      log.push(`${where} = ${show(next)}`);
    }
  } else if (choice < 0.75) {
    const next = pick(rng, NUMBERS);
    set(root, path, next);
    log.push(`${where} = ${show(next)}`);
  } else {
    const next = pick(rng, [value + 1, value - 1, value + 4, value - 4, value * 2, Math.floor(value / 2), -value, value + 0.5]);
    set(root, path, next);
    log.push(`${where} = ${show(next)}`);
  }
}

/** Edits of the manifest text itself: what a torn write or a bad editor leaves. */
function mutateText(rng: Random, text: string, log: string[]): string {
  const at = Math.floor(rng.next() * text.length);
  const op = Math.floor(rng.next() * 5);
  log.push(['truncated', 'replaced a character', 'deleted a character', 'inserted a character', 'duplicated a line'][op] + ` at ${at}`);
  switch (op) {
    case 0: return text.slice(0, at);
    case 1: return text.slice(0, at) + pick(rng, [...'{}[]",:0123456789-.eE aZ']) + text.slice(at + 1);
    case 2: return text.slice(0, at) + text.slice(at + 1);
    case 3: return text.slice(0, at) + pick(rng, [...'{}[]",:01-. ']) + text.slice(at);
    default: {
      const lines = text.split('\n');
      const line = Math.floor(rng.next() * lines.length);
      lines.splice(line, 0, lines[line]);
      return lines.join('\n');
    }
  }
}

function mutateBytes(rng: Random, bytes: Uint8Array, log: string[]): Uint8Array {
  const op = Math.floor(rng.next() * 6);
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const word = 4 * Math.floor((rng.next() * out.length) / 4);
  switch (op) {
    case 0: {
      const flips = 1 + Math.floor(rng.next() * 4);
      for (let k = 0; k < flips; k++) out[Math.floor(rng.next() * out.length)] ^= 1 << Math.floor(rng.next() * 8);
      log.push(`${flips} bit flips`);
      return out;
    }
    case 1: {
      const length = Math.floor(rng.next() * out.length);
      log.push(`truncated to ${length}`);
      return out.slice(0, length);
    }
    case 2: {
      const extra = 1 + Math.floor(rng.next() * 16);
      const longer = new Uint8Array(out.length + extra);
      longer.set(out);
      for (let k = out.length; k < longer.length; k++) longer[k] = Math.floor(rng.next() * 256);
      log.push(`extended by ${extra}`);
      return longer;
    }
    case 3: {
      const value = pick(rng, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.4e38, -1e-45, 0]);
      view.setFloat32(word, value, true);
      log.push(`float at ${word} = ${value}`);
      return out;
    }
    case 4: {
      const other = 4 * Math.floor((rng.next() * out.length) / 4);
      const a = view.getUint32(word, true);
      view.setUint32(word, view.getUint32(other, true), true);
      view.setUint32(other, a, true);
      log.push(`swapped words ${word} and ${other}`);
      return out;
    }
    default:
      out.fill(0, word, Math.min(out.length, word + 64));
      log.push(`zeroed from ${word}`);
      return out;
  }
}

// ---- helpers -------------------------------------------------------------------------------

function paths(value: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push([...prefix, i], ...paths(v, [...prefix, i])));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...paths(v, [...prefix, k]));
  return out;
}

function get(root: Json, path: Path): any {
  return path.reduce<any>((v, k) => v?.[k], root);
}

function set(root: Json, path: Path, value: Json): void {
  get(root, path.slice(0, -1))[path[path.length - 1]] = value;
}

function remove(root: Json, path: Path): void {
  const parent = get(root, path.slice(0, -1));
  if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
  else delete parent[path[path.length - 1]];
}

function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)];
}

function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : v === undefined ? 'undefined' : JSON.stringify(v);
}

function safeChecksum(m: unknown): string {
  try {
    return manifestChecksum(m as ModelManifest);
  } catch {
    return '00000000';
  }
}

function parseOrUndefined(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isOriginal(described: unknown, bytes: Uint8Array): boolean {
  if (!equalBytes(bytes, original.bytes) || !isObject(described)) return false;
  try {
    return canonical(described) === canonical(original.manifest);
  } catch {
    return false;
  }
}

/** JSON with sorted keys (the test's own, independent of the library's). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

function bytesOf(values: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** An error message with the names and numbers taken out, to count kinds of errors. */
function errorClass(message: string): string {
  return message
    .split('\n')[0]
    .replace(/^.*?(model\.json|weights-[0-9a-f]{8}\.bin|model manifest|model weights): /, '')
    .replace(/is not valid JSON \(.*$/, 'is not valid JSON')
    .replace(/ \(crc32 [0-9a-f]{8}, [^)]*\)/, '')
    .replace(/, got .*$/, '')
    .replace(/'[^']*'|"[^"]*"/g, '…')
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/-?\b\d[\d.e+-]*\b/g, 'N')
    .slice(0, 100);
}

/** Counts one outcome under 'kind: outcome[: detail]'. */
function count(map: Map<string, number>, key: string, detail?: string): void {
  const full = detail === undefined ? key : `${key}: ${detail}`;
  map.set(full, (map.get(full) ?? 0) + 1);
}
