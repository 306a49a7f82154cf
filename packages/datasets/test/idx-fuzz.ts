/**
 * A mutation fuzzer for the IDX parser (not part of the package's build: only the tests
 * and `pnpm fuzz` import it). It takes valid IDX buffers, damages them (bit flips,
 * truncation, extension, spliced ranges, header fields set to extreme values) and
 * checks each outcome against an independent decoder written from the format's
 * definition: where that decoder accepts the bytes, `parseIdx` must return exactly its
 * shape and data; where it refuses them, `parseIdx` must throw an `IdxFormatError`
 * naming the file, for the same reason. `imageSetFromIdx` is fuzzed the same way on
 * damaged image/label pairs. Any other exception, or a disagreement, is a finding.
 */
import { BackpropError, createRandom, type Random, sizeOfShape } from '@backprop/tensor';
import { IdxFormatError, parseIdx } from '../src/idx.js';
import { imageSetFromIdx } from '../src/mnist.js';

export interface FuzzOptions {
  iterations: number;
  seed: number;
  /** Stop early after this many milliseconds (the count run is reported). */
  timeBudgetMs?: number;
}

export interface FuzzReport {
  iterations: number;
  elapsedMs: number;
  /** Outcome → count, e.g. 'parseIdx ok', 'parseIdx refused: length', 'imageSet ok'. */
  outcomes: Record<string, number>;
  /** Disagreements and foreign exceptions, with the input as hex to reproduce them (at most 20). */
  findings: string[];
}

/** What the format says about `bytes`: a shape and where its data starts, or why not. */
type Reference = { ok: true; shape: number[]; dataOffset: number } | { ok: false; reason: Reason };
type Reason = 'short' | 'magic' | 'type' | 'rank' | 'header' | 'length';

/** The words each reason's message must contain: the parser must refuse for the reason the format gives. */
const REASON_TEXT: Record<Reason, RegExp> = {
  short: /too short for an IDX header/,
  magic: /wrong magic number/,
  type: /data type 0x[0-9a-f]+ is not supported/,
  rank: /dimensions; expected 1 to 4/,
  header: /truncated inside its header/,
  length: /does not match its header/,
};

/**
 * The IDX decoder the parser is checked against, written separately and plainly: byte
 * arithmetic instead of a DataView, BigInt for the size so no float rounding can hide a
 * disagreement.
 */
export function referenceDecode(bytes: Uint8Array): Reference {
  if (bytes.length < 4) return { ok: false, reason: 'short' };
  if (bytes[0] !== 0 || bytes[1] !== 0) return { ok: false, reason: 'magic' };
  if (bytes[2] !== 8) return { ok: false, reason: 'type' };
  const rank = bytes[3];
  if (rank === 0 || rank > 4) return { ok: false, reason: 'rank' };
  if (bytes.length < 4 + 4 * rank) return { ok: false, reason: 'header' };
  const shape: number[] = [];
  let size = 1n;
  for (let i = 0; i < rank; i++) {
    const o = 4 + 4 * i;
    const d = bytes[o] * 2 ** 24 + bytes[o + 1] * 2 ** 16 + bytes[o + 2] * 2 ** 8 + bytes[o + 3];
    shape.push(d);
    size *= BigInt(d);
  }
  if (BigInt(bytes.length) !== BigInt(4 + 4 * rank) + size) return { ok: false, reason: 'length' };
  return { ok: true, shape, dataOffset: 4 + 4 * rank };
}

/** A valid IDX buffer of unsigned bytes. */
export function encodeIdx(shape: readonly number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  out[2] = 8;
  out[3] = shape.length;
  shape.forEach((d, i) => {
    out[4 + 4 * i] = (d >>> 24) & 0xff;
    out[5 + 4 * i] = (d >>> 16) & 0xff;
    out[6 + 4 * i] = (d >>> 8) & 0xff;
    out[7 + 4 * i] = d & 0xff;
  });
  out.set(data, 4 + 4 * shape.length);
  return out;
}

const EXTREME_DIMS = [0, 1, 2, 3, 255, 256, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const EXTREME_BYTES = [0x00, 0x01, 0x08, 0x7f, 0x80, 0xfe, 0xff];

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/** A random valid buffer: mostly MNIST-like images or labels, sometimes another rank. */
function validBuffer(rng: Random, kind: 'images' | 'labels' | 'any', count = rng.int(5)): Uint8Array {
  const shape =
    kind === 'images' ? [count, 1 + rng.int(4), 1 + rng.int(4)] : kind === 'labels' ? [count] : Array.from({ length: 1 + rng.int(4) }, () => rng.int(4));
  const size = sizeOfShape(shape);
  const data = Array.from({ length: size }, () => (kind === 'labels' ? (rng.next() < 0.95 ? rng.int(10) : pick(rng, EXTREME_BYTES)) : rng.int(256)));
  return encodeIdx(shape, data);
}

function setUint32(bytes: Uint8Array, offset: number, value: number): void {
  for (let k = 0; k < 4; k++) if (offset + k < bytes.length) bytes[offset + k] = (value >>> (24 - 8 * k)) & 0xff;
}

/** One to three mutations of `input` (a copy is returned; the input is untouched). */
export function mutate(rng: Random, input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const steps = 1 + rng.int(3);
  for (let s = 0; s < steps; s++) {
    switch (rng.int(10)) {
      case 0: // bit flips
        for (let k = 1 + rng.int(4); k > 0 && bytes.length > 0; k--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
        break;
      case 1: // a byte set to an extreme value
        if (bytes.length > 0) bytes[rng.int(bytes.length)] = pick(rng, EXTREME_BYTES);
        break;
      case 2: // truncation, often inside the header
        bytes = bytes.slice(0, rng.next() < 0.5 ? rng.int(Math.min(bytes.length, 20) + 1) : rng.int(bytes.length + 1));
        break;
      case 3: {
        // extension by a few bytes
        const extra = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
        const grown = new Uint8Array(bytes.length + extra.length);
        grown.set(bytes);
        grown.set(extra, bytes.length);
        bytes = grown;
        break;
      }
      case 4: // a dimension set to an extreme value
        setUint32(bytes, 4 + 4 * rng.int(4), pick(rng, EXTREME_DIMS));
        break;
      case 5: // the rank byte
        if (bytes.length > 3) bytes[3] = pick(rng, [0, 1, 2, 3, 4, 5, 8, 127, 255]);
        break;
      case 6: // the type byte, often another IDX type
        if (bytes.length > 2) bytes[2] = pick(rng, [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, rng.int(256)]);
        break;
      case 7: {
        // a new header whose dimensions agree with the length: a valid file of another shape
        const dims = Array.from({ length: 1 + rng.int(4) }, () => rng.int(4));
        const data = new Uint8Array(sizeOfShape(dims));
        data.set(bytes.subarray(Math.min(bytes.length, 4 + 4 * (bytes[3] ?? 0))).subarray(0, data.length));
        bytes = encodeIdx(dims, data);
        break;
      }
      case 8: {
        // a range removed
        const from = rng.int(bytes.length + 1);
        const to = Math.min(bytes.length, from + 1 + rng.int(8));
        const out = new Uint8Array(bytes.length - (to - from));
        out.set(bytes.subarray(0, from));
        out.set(bytes.subarray(to), from);
        bytes = out;
        break;
      }
      default: {
        // a range duplicated
        const from = rng.int(bytes.length + 1);
        const piece = bytes.slice(from, from + 1 + rng.int(8));
        const out = new Uint8Array(bytes.length + piece.length);
        out.set(bytes.subarray(0, from));
        out.set(piece, from);
        out.set(bytes.subarray(from), from + piece.length);
        bytes = out;
      }
    }
  }
  return bytes;
}

/** The same bytes in the forms parseIdx accepts: a Uint8Array, an ArrayBuffer, a view at an offset, a Buffer. */
function present(rng: Random, bytes: Uint8Array): Uint8Array | ArrayBuffer {
  switch (rng.int(4)) {
    case 0:
      return bytes;
    case 1:
      return bytes.slice().buffer;
    case 2: {
      const offset = 1 + rng.int(7);
      const pool = new Uint8Array(offset + bytes.length + rng.int(7));
      pool.fill(0xaa);
      pool.set(bytes, offset);
      return pool.subarray(offset, offset + bytes.length);
    }
    default:
      return typeof Buffer === 'function' ? Buffer.from(bytes) : bytes;
  }
}

const NOT_BYTES: readonly (() => unknown)[] = [
  () => null,
  () => undefined,
  () => new Float32Array(8),
  () => new Int8Array(8),
  () => [0, 0, 8, 1, 0, 0, 0, 1, 5],
  () => '\u0000\u0000\u0008\u0001',
  () => 42,
  () => ({ length: 9 }),
  () => new DataView(new ArrayBuffer(9)),
];

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join('') + (bytes.length > 64 ? `… (${bytes.length} bytes)` : '');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function runIdxFuzz(options: FuzzOptions): FuzzReport {
  const rng = createRandom(options.seed);
  const outcomes: Record<string, number> = {};
  const findings: string[] = [];
  const count = (key: string): void => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  const find = (message: string): void => {
    if (findings.length < 20) findings.push(message);
  };
  const start = Date.now();
  let i = 0;
  for (; i < options.iterations; i++) {
    if (options.timeBudgetMs !== undefined && (i & 255) === 0 && Date.now() - start > options.timeBudgetMs) break;
    const roll = rng.next();
    if (roll < 0.01) checkNotBytes(rng, count, find);
    else if (roll < 0.8) checkParse(rng, i, count, find);
    else checkImageSet(rng, i, count, find);
  }
  return { iterations: i, elapsedMs: Date.now() - start, outcomes, findings };
}

type Count = (key: string) => void;
type Find = (message: string) => void;

function checkNotBytes(rng: Random, count: Count, find: Find): void {
  const value = pick(rng, NOT_BYTES)();
  try {
    parseIdx(value as never, 'fuzz.idx');
    find(`parseIdx accepted a non-bytes value ${Object.prototype.toString.call(value)}`);
  } catch (error) {
    if (error instanceof BackpropError && /must be a Uint8Array or an ArrayBuffer/.test(error.message)) count('parseIdx refused: not bytes');
    else find(`parseIdx threw ${String(error)} for a non-bytes value ${Object.prototype.toString.call(value)}`);
  }
}

function checkParse(rng: Random, i: number, count: Count, find: Find): void {
  const base = validBuffer(rng, pick(rng, ['images', 'labels', 'any'] as const));
  const bytes = rng.next() < 0.05 ? base : mutate(rng, base);
  const file = `fuzz-${i}.idx`;
  const expected = referenceDecode(bytes);
  let parsed;
  try {
    parsed = parseIdx(present(rng, bytes), file);
  } catch (error) {
    if (!(error instanceof BackpropError)) return find(`${file}: parseIdx threw ${String(error)} for ${hex(bytes)}`);
    if (expected.ok) return find(`${file}: parseIdx refused valid bytes (${error.message}) ${hex(bytes)}`);
    if (!(error instanceof IdxFormatError) || error.file !== file || !error.message.startsWith(`${file}: `)) {
      return find(`${file}: the error does not name the file: ${error.message}`);
    }
    if (!REASON_TEXT[expected.reason].test(error.message)) {
      return find(`${file}: refused for another reason than '${expected.reason}': ${error.message} ${hex(bytes)}`);
    }
    return count(`parseIdx refused: ${expected.reason}`);
  }
  if (!expected.ok) return find(`${file}: parseIdx accepted bytes the format refuses (${expected.reason}): ${hex(bytes)}`);
  if (parsed.shape.length !== expected.shape.length || parsed.shape.some((d, k) => d !== expected.shape[k])) {
    return find(`${file}: shape [${parsed.shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  }
  if (!sameBytes(parsed.data, bytes.subarray(expected.dataOffset))) return find(`${file}: data differs from the bytes after the header`);
  count('parseIdx ok');
}

function checkImageSet(rng: Random, i: number, count: Count, find: Find): void {
  // One count for both, so undamaged pairs agree and reach the label and limit checks.
  const n = rng.int(5);
  let images = validBuffer(rng, 'images', n);
  let labels = validBuffer(rng, 'labels', n);
  // Mostly damage one side, sometimes neither (so the pairing and label checks run on valid files).
  const which = rng.int(4);
  if (which === 0 || which === 2) images = mutate(rng, images);
  if (which === 1 || which === 2) labels = mutate(rng, labels);
  const names = { images: `images-${i}`, labels: `labels-${i}` };
  const limit = rng.next() < 0.5 ? undefined : pick(rng, [0, 1, 2, 3, 10, Infinity]);
  const numClasses = rng.next() < 0.5 ? undefined : pick(rng, [1, 2, 9, 10, 256]);
  const want = referenceImageSet(images, labels, limit ?? Infinity, numClasses, names);
  let set;
  try {
    set = imageSetFromIdx(present(rng, images), present(rng, labels), names, { limit, numClasses });
  } catch (error) {
    if (!(error instanceof BackpropError)) return find(`imageSetFromIdx threw ${String(error)} for images ${hex(images)} labels ${hex(labels)}`);
    if (want.ok) return find(`imageSetFromIdx refused a valid pair (${error.message}): images ${hex(images)} labels ${hex(labels)}`);
    if (!error.message.startsWith(`${want.file}: `)) {
      return find(`imageSetFromIdx blamed the wrong file: ${error.message}, expected ${want.file} (${want.reason})`);
    }
    return count(`imageSet refused: ${want.reason}`);
  }
  if (!want.ok) return find(`imageSetFromIdx accepted a pair it should refuse (${want.reason} in ${want.file}): images ${hex(images)} labels ${hex(labels)}`);
  const img = referenceDecode(images) as Extract<Reference, { ok: true }>;
  const lab = referenceDecode(labels) as Extract<Reference, { ok: true }>;
  const [, rows, cols] = img.shape;
  if (set.count !== want.count || set.rows !== rows || set.cols !== cols) return find(`imageSetFromIdx: count/rows/cols ${set.count}/${set.rows}/${set.cols}, expected ${want.count}/${rows}/${cols}`);
  if (set.images.length !== want.count * rows * cols || set.labels.length !== want.count) return find('imageSetFromIdx: array lengths disagree with count');
  for (let k = 0; k < set.images.length; k++) {
    if (set.images[k] !== Math.fround(images[img.dataOffset + k] / 255)) return find(`imageSetFromIdx: pixel ${k} is ${set.images[k]}`);
  }
  if (!sameBytes(set.labels, labels.subarray(lab.dataOffset, lab.dataOffset + want.count))) return find('imageSetFromIdx: labels differ from the file');
  count('imageSet ok');
}

/** What imageSetFromIdx must do with a pair, from the format and its documented checks. */
function referenceImageSet(
  images: Uint8Array,
  labels: Uint8Array,
  limit: number,
  numClasses: number | undefined,
  names: { images: string; labels: string },
): { ok: true; count: number } | { ok: false; file: string; reason: string } {
  const img = referenceDecode(images);
  if (!img.ok) return { ok: false, file: names.images, reason: `images ${img.reason}` };
  const lab = referenceDecode(labels);
  if (!lab.ok) return { ok: false, file: names.labels, reason: `labels ${lab.reason}` };
  if (img.shape.length !== 3) return { ok: false, file: names.images, reason: 'images rank' };
  if (lab.shape.length !== 1) return { ok: false, file: names.labels, reason: 'labels rank' };
  if (img.shape[0] !== lab.shape[0]) return { ok: false, file: names.labels, reason: 'count mismatch' };
  if (img.shape[0] > 0 && (img.shape[1] === 0 || img.shape[2] === 0)) return { ok: false, file: names.images, reason: 'empty images' };
  const n = Math.min(img.shape[0], limit);
  if (numClasses !== undefined) {
    for (let k = 0; k < n; k++) if (labels[lab.dataOffset + k] >= numClasses) return { ok: false, file: names.labels, reason: 'label out of range' };
  }
  return { ok: true, count: n };
}
