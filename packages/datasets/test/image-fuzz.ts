/**
 * A mutation fuzzer for image decoding (only the tests and `pnpm fuzz` import it): valid
 * PNG and JPEG files of every kind the loader reads (grey, grey + alpha, RGB, RGBA, 16-bit,
 * palette, 1-bit; baseline JPEG) are damaged with the IDX fuzzer's mutations, and
 * `decodeImage` must either refuse them with an `ImageDatasetError` naming the file, or
 * return a well-formed image: the header's size (within the pixel limit), one or three
 * channels, every value a finite number in [0, 1]. Anything else thrown is a finding.
 * `decodeImageInto` (the batches' path, with its own PNG fast path) must agree with
 * `decodeImage` then `writeImageSample`: the same error message, or the same values.
 * A PNG is covered by checksums (each chunk's CRC-32, the zlib stream's Adler-32) from its
 * first chunk through IEND: a damaged PNG that decodes is a finding unless the damage
 * left those bytes as they were (e.g. it only added bytes after IEND).
 */
import { createRandom, type Random } from '@backprop/tensor';
import { encode as encodeFastPng } from 'fast-png';
import { decodeImageInto } from '../src/images/decode.js';
import { decodeImage, ImageDatasetError, readImageHeader, writeImageSample } from '../src/index.js';
import { mutate } from './idx-fuzz.js';
import { jpegBytes, pngBytes } from './image-fixtures.js';

export interface ImageFuzzOptions {
  iterations: number;
  seed: number;
  timeBudgetMs?: number;
}

export interface ImageFuzzReport {
  iterations: number;
  elapsedMs: number;
  outcomes: Record<string, number>;
  findings: string[];
}

/** The pixel limit under fuzzing: small, so a damaged header claiming a huge image is refused, not decoded. */
const MAX_PIXELS = 4096;

function validImage(rng: Random, jpeg: boolean): { bytes: Uint8Array; kind: string } {
  const w = 1 + rng.int(9);
  const h = 1 + rng.int(9);
  const values = (n: number, max = 255) => Array.from({ length: n }, () => rng.int(max + 1));
  switch (jpeg ? 6 : rng.int(6)) {
    case 0:
      return { bytes: pngBytes(w, h, 1, values(w * h)), kind: 'png grey' };
    case 1:
      return { bytes: pngBytes(w, h, 2, values(2 * w * h)), kind: 'png grey+alpha' };
    case 2:
      return { bytes: pngBytes(w, h, 3, values(3 * w * h)), kind: 'png rgb' };
    case 3:
      return { bytes: pngBytes(w, h, 4, values(4 * w * h), rng.next() < 0.5 ? 8 : 16), kind: 'png rgba' };
    case 4: {
      const palette = Array.from({ length: 1 + rng.int(4) }, () => values(3));
      return { bytes: encodeFastPng({ width: w, height: h, depth: 8, channels: 1, palette, data: Uint8Array.from(values(w * h, palette.length - 1)) }), kind: 'png palette' };
    }
    case 5: {
      const packed = new Uint8Array(Math.ceil(w / 8) * h);
      packed.forEach((_, i) => (packed[i] = rng.int(256)));
      return { bytes: encodeFastPng({ width: w, height: h, depth: 1, channels: 1, data: packed }), kind: 'png 1-bit' };
    }
    default:
      return { bytes: jpegBytes(w, h, values(4 * w * h), 50 + rng.int(50)), kind: 'jpeg' };
  }
}

/** How many valid files of each run are made up front (jpeg-js takes ~0.2 s to encode one). */
const POOL = 64;

export function runImageFuzz(options: ImageFuzzOptions): ImageFuzzReport {
  const rng = createRandom(options.seed);
  const pool = Array.from({ length: POOL }, () => validImage(rng, false));
  pool.push(...Array.from({ length: 8 }, () => validImage(rng, true)));
  const outcomes: Record<string, number> = {};
  const findings: string[] = [];
  const count = (key: string) => (outcomes[key] = (outcomes[key] ?? 0) + 1);
  const start = Date.now();
  let i = 0;
  for (; i < options.iterations; i++) {
    if (options.timeBudgetMs !== undefined && (i & 15) === 0 && Date.now() - start > options.timeBudgetMs) break;
    const { bytes: valid, kind } = pool[rng.int(pool.length)];
    const bytes = rng.next() < 0.05 ? valid : mutate(rng, valid);
    const file = `fuzz-${i}.img`;
    let finding = check(bytes, file);
    if (finding === 'ok' && kind.startsWith('png') && !keepsCheckedBytes(valid, bytes)) finding = 'decoded although a byte covered by a CRC-32 or the Adler-32 changed';
    if (finding === undefined) continue;
    if (finding.startsWith('ok') || finding.startsWith('refused')) count(`${kind} ${finding}`);
    else if (findings.length < 20) findings.push(`${file} (${kind}): ${finding}; bytes ${Array.from(bytes.subarray(0, 96), (b) => b.toString(16).padStart(2, '0')).join('')}`);
  }
  return { iterations: i, elapsedMs: Date.now() - start, outcomes, findings };
}

/** Whether `bytes` holds `valid`'s bytes up to the end of its IEND chunk unchanged (PNG's signature and checksummed chunks). */
function keepsCheckedBytes(valid: Uint8Array, bytes: Uint8Array): boolean {
  const view = new DataView(valid.buffer, valid.byteOffset, valid.byteLength);
  let end = 8;
  for (;;) {
    const length = view.getUint32(end);
    const type = String.fromCharCode(...valid.subarray(end + 4, end + 8));
    end += 12 + length;
    if (type === 'IEND') break;
  }
  if (bytes.length < end) return false;
  for (let i = 0; i < end; i++) if (bytes[i] !== valid[i]) return false;
  return true;
}

/** 'ok' / 'refused' for an outcome the contract allows, or what was wrong. */
function check(bytes: Uint8Array, file: string): string {
  let header;
  try {
    header = readImageHeader(bytes, file, MAX_PIXELS);
  } catch (error) {
    if (!(error instanceof ImageDatasetError) || error.file !== file || !error.message.startsWith(`${file}: `)) return `readImageHeader threw ${String(error)}`;
  }
  let image;
  try {
    image = decodeImage(bytes, file, MAX_PIXELS);
  } catch (error) {
    if (!(error instanceof ImageDatasetError)) return `decodeImage threw ${String(error)}`;
    if (error.file !== file || !error.message.startsWith(`${file}: `)) return `the error does not name the file: ${error.message}`;
    if (header) {
      const into = intoOutcome(bytes, file, header);
      if (into !== error.message) return `decodeImage refused (${error.message}) but decodeImageInto gave ${into}`;
    }
    return 'refused';
  }
  if (header) {
    const layout = { channels: header.channels, height: header.height, width: header.width, interpolation: 'bilinear' as const };
    const expected = new Float32Array(header.channels * header.width * header.height);
    writeImageSample(image, layout, expected, 0);
    const into = intoOutcome(bytes, file, header);
    if (typeof into === 'string') return `decodeImage decoded but decodeImageInto gave ${into}`;
    for (let k = 0; k < expected.length; k++) if (!Object.is(into[k], expected[k])) return `decodeImageInto value ${k} is ${into[k]}, decodeImage then writeImageSample give ${expected[k]}`;
  }
  const { width, height, channels, data } = image;
  if (!header || header.width !== width || header.height !== height) return `decoded ${width}×${height} but the header read ${header ? `${header.width}×${header.height}` : 'nothing'}`;
  if (!(width >= 1 && height >= 1 && width * height <= MAX_PIXELS)) return `decoded a ${width}×${height} image`;
  if (channels !== 1 && channels !== 3) return `${channels} channels`;
  if (data.length !== width * height * channels) return `${data.length} values for ${width}×${height}×${channels}`;
  for (let k = 0; k < data.length; k++) if (!(data[k] >= 0 && data[k] <= 1)) return `value ${k} is ${data[k]}`;
  return 'ok';
}

/** The sample `decodeImageInto` writes (at an offset, into a larger array), or its error's message. */
function intoOutcome(bytes: Uint8Array, file: string, header: { channels: 1 | 3; width: number; height: number }): Float32Array | string {
  const size = header.channels * header.width * header.height;
  const out = new Float32Array(size + 3).fill(-1);
  try {
    decodeImageInto(bytes, file, MAX_PIXELS, { channels: header.channels, height: header.height, width: header.width, interpolation: 'bilinear' }, out, 3);
  } catch (error) {
    return error instanceof ImageDatasetError ? error.message : `a non-ImageDatasetError: ${String(error)}`;
  }
  if (out[0] !== -1 || out[1] !== -1 || out[2] !== -1) return 'values written before the sample\'s offset';
  return out.subarray(3);
}
