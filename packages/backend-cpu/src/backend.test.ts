import { add, conv2d, matMul, tensor, zeros } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from './backend.js';
import { makeRegistry, t } from './testUtil.js';

describe('CpuBackend storage', () => {
  it('write copies, readSync returns copies, memory() is exact and disposing twice is harmless', () => {
    const b = new CpuBackend();
    const src = new Float32Array([1, 2, 3]);
    const id = b.write(src, [3], 'float32');
    src[0] = 99;
    expect(Array.from(b.readSync(id))).toEqual([1, 2, 3]);
    const copy = b.readSync(id);
    copy[1] = 42;
    expect(b.readSync(id)[1]).toBe(2);
    const id2 = b.write(new Float64Array([1, 2]), [2], 'float64');
    expect(b.memory()).toEqual({ numDataBuffers: 2, numBytes: 12 + 16 });
    b.disposeData(id);
    b.disposeData(id);
    expect(b.memory()).toEqual({ numDataBuffers: 1, numBytes: 16 });
    b.disposeData(id2);
    expect(b.memory()).toEqual({ numDataBuffers: 0, numBytes: 0 });
    expect(() => b.readSync(id)).toThrow(/disposed/);
  });

  it('recycled buffers never leak stale values into accumulating kernels', () => {
    const r = makeRegistry();
    for (let rep = 0; rep < 3; rep++) {
      const junk = tensor(new Array(16).fill(7), [1, 1, 4, 4], { registry: r });
      junk.dispose();
      const z = zeros([1, 1, 4, 4], { registry: r });
      expect(Array.from(z.dataSync())).toEqual(new Array(16).fill(0));
      z.dispose();
    }
  });

  it('memory returns to baseline after ops are disposed', () => {
    const r = makeRegistry();
    const before = r.memory();
    r.scope(() => {
      const x = t(r, new Array(2 * 3 * 6 * 6).fill(0.5), [2, 3, 6, 6], 'float32');
      const k = t(r, new Array(4 * 3 * 3 * 3).fill(0.1), [4, 3, 3, 3], 'float32');
      const y = conv2d(x, k, { pad: 1 });
      const a = matMul(y.reshape([8, 36]), y.reshape([8, 36]), { transposeB: true });
      add(a, a);
      expect(r.memory().numDataBuffers).toBeGreaterThan(before.numDataBuffers);
    });
    const after = r.memory();
    expect([after.numDataBuffers, after.numBytes, after.numTensors]).toEqual([before.numDataBuffers, before.numBytes, before.numTensors]);
  });
});
