/**
 * CRC-32 (IEEE 802.3, the checksum of zip, gzip and PNG chunks), table-driven, four bytes
 * a step ("slicing by 4": ~1 ns a byte, against ~2.5 for a byte a step). `crc32(bytes)` is
 * the checksum of the whole array; a running checksum over pieces is
 * `crc32(piece2, crc32(piece1))`; `start`/`end` take a range without a subarray.
 */
export function crc32(bytes: Uint8Array, previous = 0, start = 0, end = bytes.length): number {
  let crc = ~previous;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    crc = TABLE_3[crc & 0xff] ^ TABLE_2[(crc >>> 8) & 0xff] ^ TABLE_1[(crc >>> 16) & 0xff] ^ TABLE_0[crc >>> 24];
  }
  for (; i < end; i++) crc = TABLE_0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** TABLE_0[n]: the CRC of byte n; TABLE_k[n]: of byte n followed by k zero bytes. */
const [TABLE_0, TABLE_1, TABLE_2, TABLE_3] = (() => {
  const tables = Array.from({ length: 4 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c;
  }
  for (let k = 1; k < 4; k++) for (let n = 0; n < 256; n++) tables[k][n] = (tables[k - 1][n] >>> 8) ^ tables[0][tables[k - 1][n] & 0xff];
  return tables;
})();
