import { crc32 } from '@backprop/tensor';
import { Unzlib, unzlibSync } from 'fflate';
import type { ImageLayout } from './convert.js';

/**
 * The PNG decoding of a training pass, straight into the batch: a non-interlaced 8-bit
 * grey, grey + alpha, RGB or RGBA PNG already of the layout's size and channel count
 * (MNIST written as PNGs; most data sets prepared for training) is inflated into a reused
 * buffer, unfiltered in place and written as floats at the sample's offset — no decoded
 * image, no per-file buffers. fast-png's streaming inflater starts a 32 KiB window and
 * grows a 64 KiB output for every file, which for small images costs more than the pixels.
 *
 * Anything else (palette, 1/2/4/16-bit, interlaced, another size or channel count) returns
 * false and is decoded by `decodeImage`; so does a file this path cannot read (damaged
 * data, a wrong length, a chunk CRC or the zlib Adler-32 that does not match), so that its
 * error is the one `decodeImage` gives. The values are the same as `decodeImage` then
 * `writeImageSample` give, bit for bit (the same v / 255).
 */
export function writePngSample(bytes: Uint8Array, layout: ImageLayout, out: Float32Array, offset: number): boolean {
  if (bytes.length < 8 + 25 + 12) return false;
  const width = uint32(bytes, 16);
  const height = uint32(bytes, 20);
  const depth = bytes[24];
  const colourType = bytes[25];
  const samples = colourType === 0 ? 1 : colourType === 4 ? 2 : colourType === 2 ? 3 : colourType === 6 ? 4 : 0;
  // Compression and filter method 0 (the only ones defined), no interlacing.
  if (samples === 0 || depth !== 8 || bytes[26] !== 0 || bytes[27] !== 0 || bytes[28] !== 0) return false;
  const channels = samples <= 2 ? 1 : 3;
  if (width !== layout.width || height !== layout.height || channels !== layout.channels) return false;
  const stride = width * samples;
  const expected = (stride + 1) * height;
  // Large images gain nothing here (their pixels cost more than the per-file work) and would keep a large scratch buffer.
  if (expected > MAX_SCRATCH_BYTES) return false;
  const data = zlibStream(bytes);
  if (data === undefined) return false;
  let rows: Uint8Array;
  try {
    // One byte more than expected: a stream that inflates to more is caught by the length check.
    rows = unzlibSync(data, { out: scratch(expected + 1) });
  } catch {
    return false;
  }
  if (rows.length !== expected || adler32(rows) !== uint32(data, data.length - 4) || !unfilter(rows, stride, height, samples)) return false;
  const plane = width * height;
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const at = offset + y * width;
    for (let x = 0; x < width; x++) {
      const pixel = row + x * samples;
      // The first `channels` samples of the pixel; alpha (2nd of grey + alpha, 4th of RGBA) is dropped.
      for (let c = 0; c < channels; c++) out[at + c * plane + x] = rows[pixel + c] / 255;
    }
  }
  return true;
}

/** The zlib stream (the IDAT chunks' data; a view when there is one IDAT), or undefined when `checkChunks` finds a problem. */
function zlibStream(bytes: Uint8Array): Uint8Array | undefined {
  if (!checkChunks(bytes)) return undefined;
  const { firstIdat, idatBytes, idatChunks } = walk;
  if (idatChunks === 1) return bytes.subarray(firstIdat + 8, firstIdat + 8 + idatBytes);
  const joined = scratchJoin(idatBytes);
  let to = 0;
  for (let at = firstIdat; to < idatBytes; ) {
    const length = uint32(bytes, at);
    if (uint32(bytes, at + 4) === IDAT) {
      joined.set(bytes.subarray(at + 8, at + 8 + length), to);
      to += length;
    }
    at += 12 + length;
  }
  return joined;
}

/** The data of each IDAT chunk (views), in order, of a PNG whose chunks `pngChunkProblem` found whole. */
export function idatPieces(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 8; ; ) {
    const length = uint32(bytes, at);
    const type = uint32(bytes, at + 4);
    if (type === IEND) return pieces;
    if (type === IDAT) pieces.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
}

/**
 * What is wrong with a PNG's chunks, or undefined: every chunk up to and including IEND is
 * whole, and its CRC-32 (over its type and data) matches the one stored; there is an IDAT.
 * A PNG's compressed bytes are covered only by these CRCs, so a damaged byte that still
 * inflates is caught here rather than read as wrong pixels. (Bytes after IEND are not
 * part of the image and are not checked.)
 */
export function pngChunkProblem(bytes: Uint8Array): string | undefined {
  return checkChunks(bytes) ? undefined : walk.problem;
}

/** What the last `checkChunks` found: where the IDAT chunks lie, or the problem. Reused, as decoding is synchronous: a file costs no allocation. */
const walk = { firstIdat: 0, idatBytes: 0, idatChunks: 0, problem: '' };

/** One walk over the chunks up to IEND, checking each one's CRC (see `pngChunkProblem`); fills `walk`. */
function checkChunks(bytes: Uint8Array): boolean {
  walk.firstIdat = 0;
  walk.idatBytes = 0;
  walk.idatChunks = 0;
  for (let at = 8; ; ) {
    if (at + 12 > bytes.length) return chunkProblem(`truncated at byte ${at}, before the IEND chunk that ends a PNG`);
    const length = uint32(bytes, at);
    const end = at + 12 + length;
    if (end > bytes.length) {
      return chunkProblem(`truncated in the ${chunkTypeName(bytes, at + 4)} chunk at byte ${at} (${length} data bytes, ${Math.max(0, bytes.length - at - 12)} present)`);
    }
    const stored = uint32(bytes, end - 4);
    const computed = crc32(bytes, 0, at + 4, end - 4);
    if (stored !== computed) {
      return chunkProblem(`${chunkTypeName(bytes, at + 4)} chunk CRC mismatch at byte ${at} (stored ${hex8(stored)}, computed ${hex8(computed)}): the file is corrupt`);
    }
    const type = uint32(bytes, at + 4);
    if (type === IDAT) {
      if (walk.idatChunks++ === 0) walk.firstIdat = at;
      walk.idatBytes += length;
    } else if (type === IEND) return walk.idatChunks > 0 || chunkProblem('no IDAT chunk (the image data)');
    at = end;
  }
}

function chunkProblem(problem: string): false {
  walk.problem = problem;
  return false;
}

function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * What is wrong with a zlib stream given in pieces (a PNG's IDAT chunks' data), or undefined:
 * it inflates, and the Adler-32 of what it inflates to matches the one stored in its last 4
 * bytes (fflate does not check it). Inflated piece by piece, so a large image's data is
 * checked without a second copy of it in memory.
 */
export function zlibChecksumProblem(pieces: readonly Uint8Array[]): string | undefined {
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (total < 6) return `the zlib stream is ${total} bytes, too short to hold its header and checksum`;
  const trailer = new Uint8Array(4);
  let offset = 0;
  for (const piece of pieces) {
    // The stored Adler-32 may straddle pieces (a last IDAT of fewer than 4 bytes).
    for (let i = Math.max(0, total - 4 - offset); i < piece.length; i++) trailer[offset + i - (total - 4)] = piece[i];
    offset += piece.length;
  }
  let adler = 1;
  const inflater = new Unzlib((chunk) => {
    adler = adler32(chunk, adler);
  });
  let left = total;
  for (const piece of pieces) {
    for (let at = 0; at < piece.length; at += INFLATE_PIECE) {
      const part = piece.subarray(at, at + INFLATE_PIECE);
      left -= part.length;
      inflater.push(part, left === 0);
    }
  }
  const stored = uint32(trailer, 0);
  return stored === adler ? undefined : `zlib checksum mismatch (stored Adler-32 ${hex8(stored)}, computed ${hex8(adler)}): corrupt image data`;
}

/** Adler-32 (zlib's checksum) of `bytes`, continuing from `previous` (1 for a new stream). */
export function adler32(bytes: Uint8Array, previous = 1): number {
  let a = previous & 0xffff;
  let b = previous >>> 16;
  for (let at = 0; at < bytes.length; ) {
    // Reduced every 5552 bytes (zlib's NMAX), the most before b could pass 2^32: the sums stay small integers.
    const end = Math.min(bytes.length, at + 5552);
    for (; at < end; at++) {
      a += bytes[at];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function chunkTypeName(bytes: Uint8Array, at: number): string {
  const type = bytes.subarray(at, at + 4);
  return type.every((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) ? String.fromCharCode(...type) : `0x${Array.from(type, (c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function hex8(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Undoes the PNG row filters (None, Sub, Up, Average, Paeth) in place; false on an unknown filter type. */
function unfilter(rows: Uint8Array, stride: number, height: number, bpp: number): boolean {
  const line = stride + 1;
  for (let y = 0; y < height; y++) {
    const start = y * line + 1;
    const prev = start - line;
    const filter = rows[start - 1];
    if (filter === 0) continue;
    if (filter === 1) {
      for (let i = bpp; i < stride; i++) rows[start + i] = (rows[start + i] + rows[start + i - bpp]) & 255;
    } else if (filter === 2) {
      if (y === 0) continue;
      for (let i = 0; i < stride; i++) rows[start + i] = (rows[start + i] + rows[prev + i]) & 255;
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const left = i >= bpp ? rows[start + i - bpp] : 0;
        const up = y > 0 ? rows[prev + i] : 0;
        rows[start + i] = (rows[start + i] + ((left + up) >> 1)) & 255;
      }
    } else if (filter === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? rows[start + i - bpp] : 0;
        const b = y > 0 ? rows[prev + i] : 0;
        const c = i >= bpp && y > 0 ? rows[prev + i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        rows[start + i] = (rows[start + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
    } else return false;
  }
  return true;
}

const MAX_SCRATCH_BYTES = 1 << 22;
/** Compressed bytes inflated at a time when checking a stream's Adler-32 (bounds the inflater's output per step). */
const INFLATE_PIECE = 1 << 16;
const IDAT = 0x49444154;
const IEND = 0x49454e44;

// Reused between files (decoding is synchronous, so one file uses them at a time); they grow to the largest image seen.
let inflated = new Uint8Array(0);
let compressed = new Uint8Array(0);

function scratch(length: number): Uint8Array {
  // fflate writes from 0 and returns the written part, which must be the whole image: no stale byte is read.
  if (inflated.length < length) inflated = new Uint8Array(Math.max(length, 2 * inflated.length));
  return inflated.subarray(0, length);
}

function scratchJoin(length: number): Uint8Array {
  if (compressed.length < length) compressed = new Uint8Array(Math.max(length, 2 * compressed.length));
  return compressed.subarray(0, length);
}
