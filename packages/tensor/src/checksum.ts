/**
 * CRC-32 (IEEE 802.3, the checksum of zip, gzip and PNG chunks), table-driven: one
 * lookup per byte. `crc32(bytes)` is the checksum of the whole array; a running
 * checksum over pieces is `crc32(piece2, crc32(piece1))`.
 */
export function crc32(bytes: Uint8Array, previous = 0, start = 0, end = bytes.length): number {
  let crc = ~previous;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();
