/**
 * The IDX format of the MNIST files: a big-endian header (two zero bytes, a type
 * code, the number of dimensions, one uint32 per dimension) then the data.
 * Only unsigned-byte data (type 0x08) is used by MNIST and supported here.
 */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

export class IdxFormatError extends Error {
  override readonly name = 'IdxFormatError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

export function parseIdx(bytes: Uint8Array, file = 'IDX data'): IdxArray {
  if (bytes.length < 4) throw new IdxFormatError(file, `is ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new IdxFormatError(file, `wrong magic number 0x${magic} (an IDX file starts with 0x0000)`);
  }
  if (bytes[2] !== 0x08) throw new IdxFormatError(file, `data type 0x${bytes[2].toString(16)} is not supported (expected 0x08, unsigned bytes)`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new IdxFormatError(file, `has ${rank} dimensions; expected 1 to 4`);
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) throw new IdxFormatError(file, 'is truncated inside its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((p, d) => p * d, 1);
  if (bytes.length !== headerLength + size) {
    throw new IdxFormatError(
      file,
      `length ${bytes.length} bytes does not match its header: shape [${shape.join(', ')}] needs ${headerLength + size} bytes`,
    );
  }
  return { shape, data: bytes.subarray(headerLength) };
}
