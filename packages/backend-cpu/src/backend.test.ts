import { add, BackpropError, conv2d, DisposedTensorError, conv2dBackwardFilter, conv2dBackwardInput, matMul, tensor, zeros } from '@backprop/tensor';
import { describe, expect, it, vi } from 'vitest';
import { CpuBackend } from './backend.js';
import type { CpuBackendOptions } from './options.js';
import { cpuBackendWithOptions, createCpuBackend } from './plugin.js';
import { makeRegistry, rand, t } from './testUtil.js';

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
    expect(() => b.readSync(id)).toThrow(DisposedTensorError);
    expect(() => b.readSync(id)).toThrow(/^cpu backend: the tensor was disposed; its values are gone$/);
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

describe('the convAlgorithm option', () => {
  it("defaults every kernel to 'auto' and keeps what is set", () => {
    expect(new CpuBackend().convAlgorithm).toEqual({ forward: 'auto', filter: 'auto', input: 'auto' });
    expect(createCpuBackend({ convAlgorithm: { filter: 'sparse' } }).convAlgorithm).toEqual({ forward: 'auto', filter: 'sparse', input: 'auto' });
  });

  it('belongs to one backend: two registries with different settings run different kernels side by side', () => {
    /** The jobs one conv2d, conv2dBackwardFilter and conv2dBackwardInput call run on a backend with `options`. */
    const jobsRun = (options: CpuBackendOptions): unknown[] => {
      const r = makeRegistry(options);
      const parallel = vi.spyOn(r.setBackend('cpu') as CpuBackend, 'parallel');
      const x = t(r, rand(2 * 8 * 9 * 9, 1), [2, 8, 9, 9]), k = t(r, rand(8 * 8 * 9, 2), [8, 8, 3, 3]);
      const dy = t(r, rand(2 * 8 * 9 * 9, 3), [2, 8, 9, 9]);
      conv2d(x, k, { pad: 1 });
      conv2dBackwardFilter(x, dy, [8, 8, 3, 3], { pad: 1 });
      conv2dBackwardInput(dy, k, [2, 8, 9, 9], { pad: 1 });
      return parallel.mock.calls.map((call) => call[0]);
    };
    const forced = jobsRun({ convAlgorithm: { forward: 'gemm', filter: 'sparse', input: 'gemm' } });
    const auto = jobsRun({});
    expect(forced).toEqual(['conv2dGemm', 'convFilterSparse', 'convInput']);
    expect(auto).toEqual(['conv2dWinograd', 'convFilterGemm', 'conv2dWinograd']);
    expect(jobsRun({ convAlgorithm: { forward: 'direct' } })[0]).toBe('conv2dDirect');
  });

  it('refuses unknown kernels and algorithms when the plugin or backend is made, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ forward: 'fft' }, /convAlgorithm\.forward must be 'auto', 'direct', 'gemm', 'winograd', got 'fft'/],
      [{ input: 'sparse' }, /convAlgorithm\.input must be 'auto', 'gemm', 'winograd', got 'sparse'/],
      [{ backward: 'gemm' }, /convAlgorithm\.backward is not a convolution kernel/],
      [null, /convAlgorithm must be an object .* got null/],
      ['gemm', /convAlgorithm must be an object .* got 'gemm'/],
    ];
    for (const [convAlgorithm, message] of bad) {
      const options = { convAlgorithm } as CpuBackendOptions;
      expect(() => cpuBackendWithOptions(options)).toThrow(BackpropError);
      expect(() => cpuBackendWithOptions(options)).toThrow(message);
      expect(() => new CpuBackend(options)).toThrow(message);
    }
    expect(() => new CpuBackend({ convAlgorithm: { forward: undefined } })).not.toThrow();
  });
});
