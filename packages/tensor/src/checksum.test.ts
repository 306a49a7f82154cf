import { describe, expect, it } from 'vitest';
import { crc32 } from './index.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('gives the standard check values (CRC-32/ISO-HDLC)', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    // A PNG IEND chunk's CRC (over its type, no data) as every PNG stores it.
    expect(crc32(ascii('IEND'))).toBe(0xae426082);
  });

  it('runs over pieces and over a range as over the whole', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 255);
    const whole = crc32(bytes);
    expect(crc32(bytes.subarray(300), crc32(bytes.subarray(0, 300)))).toBe(whole);
    expect(crc32(bytes, 0, 10, 20)).toBe(crc32(bytes.subarray(10, 20)));
    // Every start, end and length (the four-byte steps and the byte-wise tail), against a bit-by-bit CRC.
    const bitwise = (b: Uint8Array): number => {
      let crc = 0xffffffff;
      for (const byte of b) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
      }
      return (crc ^ 0xffffffff) >>> 0;
    };
    for (let start = 0; start < 9; start++) {
      for (let end = start; end < 40; end++) expect(crc32(bytes, 0, start, end)).toBe(bitwise(bytes.subarray(start, end)));
    }
    expect(whole).toBe(bitwise(bytes));
    // Any single-bit change is detected.
    const flipped = bytes.slice();
    flipped[500] ^= 4;
    expect(crc32(flipped)).not.toBe(whole);
  });
});
