import { BackpropError, sizeOfShape } from '@backprop/tensor';

/**
 * The IDX format of the MNIST files: a big-endian header (two zero bytes, a type
 * code, the number of dimensions, one uint32 per dimension) then the data.
 * Only unsigned-byte data (type 0x08) is used by MNIST and supported here.
 */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/**
 * Bytes that are not a well-formed IDX file (or a file that cannot be read), or labels
 * outside the class count. A `BackpropError` whose `where` is the file's name, so the
 * message reads `train-labels-idx1-ubyte: label 255 at index 17 is outside 0..9 …`.
 */
export class IdxFormatError extends BackpropError {
  override readonly name = 'IdxFormatError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(file, detail);
  }
}

/** What `parseIdx` accepts as a file's contents: a Uint8Array (a Node Buffer is one) or an ArrayBuffer. */
export type IdxBytes = Uint8Array | ArrayBuffer;

/** The highest rank accepted; MNIST uses 1 (labels) and 3 (images). */
const MAX_RANK = 4;

/**
 * Parses one IDX buffer. Never copies: `data` is a view of `bytes`. Every problem is a
 * `BackpropError`: a value that is not bytes names `parseIdx`; corrupt bytes (wrong
 * magic, unsupported type or rank, a header cut short, dimensions that disagree with
 * the length) are `IdxFormatError`s naming `file`.
 */
export function parseIdx(bytes: IdxBytes, file = 'IDX data'): IdxArray {
  const view8 = asBytes(bytes, file);
  const length = view8.length;
  if (length < 4) throw new IdxFormatError(file, `is ${length} bytes, too short for an IDX header`);
  if (view8[0] !== 0 || view8[1] !== 0) {
    const magic = Array.from(view8.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new IdxFormatError(file, `wrong magic number 0x${magic} (an IDX file starts with 0x0000)`);
  }
  if (view8[2] !== 0x08) throw new IdxFormatError(file, `data type 0x${view8[2].toString(16)} is not supported (expected 0x08, unsigned bytes)`);
  const rank = view8[3];
  if (rank < 1 || rank > MAX_RANK) throw new IdxFormatError(file, `has ${rank} dimensions; expected 1 to ${MAX_RANK}`);
  const headerLength = 4 + 4 * rank;
  if (length < headerLength) throw new IdxFormatError(file, `is truncated inside its header (${length} of ${headerLength} bytes)`);
  // The view must start where the Uint8Array does: a Node Buffer is often a slice of a
  // larger pooled ArrayBuffer.
  const view = new DataView(view8.buffer, view8.byteOffset, view8.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  // At most (2^32 − 1)^4 ≈ 3.4e38: a finite double, so the comparison below is sound even
  // for dimensions no file could hold; nothing is allocated from them.
  const needed = headerLength + sizeOfShape(shape);
  if (length !== needed) {
    const hint =
      length > needed ? `${length - needed} extra after the data` : Number.isSafeInteger(needed) ? `${needed - length} missing: truncated?` : 'truncated?';
    throw new IdxFormatError(
      file,
      `length ${length} bytes does not match its header: shape [${shape.join(', ')}] needs ${formatCount(needed)} bytes (${hint})`,
    );
  }
  return { shape, data: view8.subarray(headerLength) };
}

/** A Uint8Array over `bytes`, or a BackpropError naming what was given instead. */
function asBytes(bytes: unknown, file: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  // toString tags, not only instanceof: an ArrayBuffer from another realm (a worker, a
  // vm context) fails instanceof but is just as readable.
  const tag = Object.prototype.toString.call(bytes);
  if (bytes instanceof ArrayBuffer || tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(bytes as ArrayBuffer);
  }
  if (tag === '[object Uint8Array]') return bytes as Uint8Array;
  throw new BackpropError('parseIdx', `the bytes of ${file} must be a Uint8Array or an ArrayBuffer, got ${kindOf(bytes)}`);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return 'an object';
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

/** Exact below 2^53; ten significant digits above, where the exact digits are meaningless. */
function formatCount(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : n.toPrecision(10);
}
