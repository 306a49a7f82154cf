import { describe, expect, it } from 'vitest';
import { copyConverted, toTypedArray } from './dtype.js';

describe('copyConverted', () => {
  it('truncates toward zero into int32, from floats and plain arrays', () => {
    const out = new Int32Array(4);
    copyConverted(new Float64Array([1.9, -1.9, 2.5, -0.5]), out, 'int32');
    expect(Array.from(out)).toEqual([1, -1, 2, 0]);
    copyConverted([7.99, -7.99], out, 'int32');
    expect(Array.from(out)).toEqual([7, -7, 2, 0]);
  });

  it('copies int32 into int32 unchanged, and rounds to float32', () => {
    const ints = new Int32Array(2);
    copyConverted(new Int32Array([2147483647, -2147483648]), ints, 'int32');
    expect(Array.from(ints)).toEqual([2147483647, -2147483648]);
    const floats = new Float32Array(3).fill(9);
    copyConverted([0.1, 1e40], floats, 'float32');
    expect(Array.from(floats)).toEqual([Math.fround(0.1), Infinity, 9]);
  });

  it('is what toTypedArray converts with', () => {
    const out = toTypedArray([3.7, -3.7], 'int32');
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out)).toEqual([3, -3]);
  });
});
