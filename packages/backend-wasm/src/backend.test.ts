import { describe, expect, it } from 'vitest';
import * as ops from '@backprop/tensor';
import { BackpropError, computeConv2DInfo, createRandom, DisposedTensorError, Registry, winogradPays, type DataId, type Tensor, type TensorInfo } from '@backprop/tensor';
import { expectArraysClose, reference as R } from '@backprop/tensor/testing';
import {
  WasmBackend,
  WasmDtypeError,
  WasmMemoryError,
  createWasmBackend,
  wasmBackend,
  wasmBackendWithOptions,
} from './index.js';
import { SPARSE_FILTER_MAX_DENSITY } from './kernels/conv2dBackwardFilter.js';
import { recordSplitExports } from './testUtil.js';

const MiB = 1024 * 1024;

function registryWith(plugin = wasmBackend): Registry {
  const registry = new Registry().use(plugin);
  registry.setBackend('wasm');
  return registry;
}

/** n values uniform in [-1, 1) as float32 numbers. */
const uniform = (n: number, seed = 1): Float32Array => {
  const rng = createRandom(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
};

describe('wasm backend storage', () => {
  it('memory() counts live tensors and their bytes, and returns to zero when they are disposed', () => {
    const registry = registryWith();
    const a = ops.tensor([1, 2, 3], [3], { registry });
    const b = ops.tensor([1, 2], [2], { registry, dtype: 'float64' });
    const c = ops.tensor([7], [1], { registry, dtype: 'int32' });
    expect(registry.memory()).toMatchObject({ numDataBuffers: 3, numBytes: 12 + 16 + 4 });
    a.dispose();
    b.dispose();
    c.dispose();
    expect(registry.memory()).toMatchObject({ numDataBuffers: 0, numBytes: 0 });
    registry.removeBackend('wasm');
  });

  it('kernels read tensors written before the memory grew (views are re-derived after every allocation)', () => {
    const backend = createWasmBackend({ initialMemoryBytes: 65536 });
    const registry = new Registry().use(wasmBackend);
    registry.registerBackend('wasm', () => backend, { replace: true });
    registry.setBackend('wasm');
    const x = ops.tensor([1, -2, 3, -4], [4], { registry });
    const before = backend.linearMemory.buffer.byteLength;
    // 1 MiB: the memory has to grow, which detaches every view of the old buffer.
    const big = ops.zeros([256 * 1024], { registry });
    expect(backend.linearMemory.buffer.byteLength).toBeGreaterThan(before);
    expect(Array.from(ops.relu(x).dataSync())).toEqual([1, 0, 3, 0]);
    expect(Array.from(x.dataSync())).toEqual([1, -2, 3, -4]);
    big.dispose();
    registry.removeBackend('wasm');
  });

  it('a training-sized loop reuses freed blocks: the heap stops growing after the first round', () => {
    const backend = new WasmBackend();
    const registry = new Registry().use(wasmBackend);
    registry.registerBackend('wasm', () => backend, { replace: true });
    registry.setBackend('wasm');
    const w = ops.tensor(uniform(64 * 32), [64, 32], { registry });
    const round = () => registry.scope(() => {
      const x = ops.tensor(uniform(16 * 64, 2), [16, 64], { registry });
      return ops.sum(ops.relu(ops.matMul(x, w)), [0, 1]).dispose();
    });
    round();
    const heap = backend.memoryInfo().heapBytes;
    for (let i = 0; i < 5; i++) round();
    expect(backend.memoryInfo().heapBytes).toBe(heap);
    expect(registry.memory().numDataBuffers).toBe(1);
    w.dispose();
    registry.removeBackend('wasm');
  });
});

describe('handles the backend does not hold', () => {
  const info = (dataId: DataId): TensorInfo => ({ dataId, shape: [2], dtype: 'float32' });

  it('a disposed tensor\'s data is a DisposedTensorError in reads and kernels; disposing it again is a no-op', () => {
    const backend = createWasmBackend();
    const id = backend.write(new Float32Array([1, 2]), [2], 'float32');
    backend.disposeData(id);
    expect(() => backend.readSync(id)).toThrow(DisposedTensorError);
    expect(() => backend.readSync(id)).toThrow(/^readSync: the tensor was disposed; its values are gone$/);
    expect(() => backend.f32(info(id), 'relu')).toThrow(DisposedTensorError);
    backend.disposeData(id);
    expect(backend.memory()).toEqual({ numDataBuffers: 0, numBytes: 0 });
  });

  it('data of another backend, or of another wasm backend\'s memory, is a BackpropError saying so, in reads, kernels and disposeData', () => {
    const backend = createWasmBackend();
    const other = createWasmBackend();
    const otherId = other.write(new Float32Array([1, 2]), [2], 'float32');
    const foreign = { values: new Float32Array(2) } as unknown as DataId;
    const cases: [DataId, RegExp][] = [
      [foreign, /the tensor belongs to another backend, not to this wasm backend/],
      [otherId, /the tensor belongs to another wasm backend \(another linear memory\), not to this wasm backend/],
    ];
    for (const [id, message] of cases) {
      for (const use of [() => backend.readSync(id), () => backend.f32(info(id), 'relu'), () => backend.disposeData(id)]) {
        let error: unknown;
        try {
          use();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(BackpropError);
        expect(error).not.toBeInstanceOf(WasmDtypeError);
        expect((error as Error).message).toMatch(message);
      }
    }
    // The other backend's tensor is untouched by the refused disposeData.
    expect(other.memory()).toEqual({ numDataBuffers: 1, numBytes: 8 });
    expect(Array.from(other.readSync(otherId))).toEqual([1, 2]);
  });
});

describe('wasm backend out of memory', () => {
  it('a tensor past maxMemoryBytes throws WasmMemoryError naming its shape and the limit, and leaks nothing', () => {
    const registry = registryWith(wasmBackendWithOptions({ maxMemoryBytes: 2 * MiB, initialMemoryBytes: MiB }));
    const keep = ops.tensor([1, 2, 3], [3], { registry });
    const before = registry.memory();
    let error: unknown;
    try {
      ops.zeros([1024, 1024], { registry }); // 4 MiB of float32
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmMemoryError);
    expect((error as Error).message).toMatch(/out of wasm linear memory allocating .*shape \[1024, 1024\] \(4194304 bytes\): the limit is 2097152 bytes/);
    expect(registry.memory()).toMatchObject({ numDataBuffers: before.numDataBuffers, numBytes: before.numBytes });
    // The backend still works.
    expect(Array.from(ops.mulScalar(keep, 2).dataSync())).toEqual([2, 4, 6]);
    registry.removeBackend('wasm');
  });

  it('a kernel whose scratch does not fit throws WasmMemoryError naming the kernel and releases its output', () => {
    const registry = registryWith(wasmBackendWithOptions({ maxMemoryBytes: 2 * MiB, initialMemoryBytes: MiB }));
    // x 1×16×128×128 (1 MiB) and 8 filters 16×5×5 at stride 4: y (8×31×31) fits beside x,
    // the column matrix (400 taps × 961 pixels, 1.5 MiB) does not.
    const x = ops.zeros([1, 16, 128, 128], { registry });
    const k = ops.zeros([8, 16, 5, 5], { registry });
    const before = registry.memory();
    expect(() => ops.conv2d(x, k, { strides: 4 })).toThrow(WasmMemoryError);
    expect(() => ops.conv2d(x, k, { strides: 4 })).toThrow(/^conv2d: out of wasm linear memory allocating 1537600 bytes of scratch/);
    expect(registry.memory()).toMatchObject({ numDataBuffers: before.numDataBuffers, numBytes: before.numBytes });
    registry.removeBackend('wasm');
  });
});

describe('wasm backend dtypes and options', () => {
  it('computes in float32 only: a float64 tensor reaching a compute kernel throws WasmDtypeError', () => {
    const registry = registryWith();
    const x = ops.tensor([1, 2], [2], { registry, dtype: 'float64' });
    expect(() => ops.relu(x)).toThrow(WasmDtypeError);
    expect(() => ops.relu(x)).toThrow(/^relu: the wasm backend computes in float32 only, got a float64 tensor of shape \[2\]/);
    // cast works between every storage dtype, so such a tensor can be brought to float32.
    expect(Array.from(ops.relu(ops.cast(x, 'float32')).dataSync())).toEqual([1, 2]);
    registry.removeBackend('wasm');
  });

  it('oneHot takes float labels as well as int32', () => {
    const registry = registryWith();
    const labels = ops.tensor([2, 0], [2], { registry });
    expect(Array.from(ops.oneHot(labels, 3).dataSync())).toEqual([0, 0, 1, 1, 0, 0]);
    registry.removeBackend('wasm');
  });

  it('rejects bad options with a BackpropError naming the option', () => {
    expect(() => wasmBackendWithOptions({ threads: 0 })).toThrow(/^wasmBackendWithOptions: threads must be a positive integer ≤ 64, got 0$/);
    expect(() => wasmBackendWithOptions({ threads: 1.5 })).toThrow(/^wasmBackendWithOptions: threads must be a positive integer ≤ 64, got 1\.5$/);
    expect(() => wasmBackendWithOptions({ threads: 65 })).toThrow(/^wasmBackendWithOptions: threads must be a positive integer ≤ 64, got 65$/);
    expect(() => wasmBackendWithOptions({ maxMemoryBytes: 10 })).toThrow(/^wasmBackendWithOptions: maxMemoryBytes must be a number in \[65536, 4294967296\], got 10$/);
    expect(() => wasmBackendWithOptions({ initialMemoryBytes: Number.NaN })).toThrow(/^wasmBackendWithOptions: initialMemoryBytes must be a number in \[65536, 4294967296\], got NaN$/);
    // Arrays and null are not options objects.
    expect(() => wasmBackendWithOptions([] as never)).toThrow(/^wasmBackendWithOptions: options must be an object, got/);
    expect(() => wasmBackendWithOptions(null as never)).toThrow(/^wasmBackendWithOptions: options must be an object, got null$/);
    expect(() => wasmBackendWithOptions({ bogus: 1 } as never)).toThrow(/^wasmBackendWithOptions: unknown option 'bogus'; valid options: threads, maxMemoryBytes, initialMemoryBytes$/);
  });
});

describe('conv2dBackwardFilter over the non-zeros of dy', () => {
  const geo = { strides: [2, 1] as [number, number], pad: [1, 2] as [number, number] };
  const xShape = [3, 4, 9, 8], filterShape = [5, 4, 3, 3] as [number, number, number, number];

  async function run(dyValues: Float32Array, xValues: Float32Array): Promise<{ got: Float64Array; want: Float64Array; ran: Set<string> }> {
    const registry = registryWith();
    const x: Tensor = ops.tensor(xValues, xShape, { registry });
    const dyShape = ops.conv2d(x, ops.zeros(filterShape, { registry }), geo).shape;
    const dy = ops.tensor(dyValues.subarray(0, dyShape.reduce((a, b) => a * b)), dyShape, { registry });
    const ran = recordSplitExports(registry.backend as WasmBackend);
    const got = Float64Array.from(await ops.conv2dBackwardFilter(x, dy, filterShape, geo).data());
    const want = R.conv2dBackwardFilter(
      { x: R.quantize(R.ref(xValues, xShape), 'float32'), dy: R.quantize(R.ref(dy.dataSync(), dyShape), 'float32') },
      { ...geo, filterShape },
    ).values;
    registry.removeBackend('wasm');
    return { got, want, ran: new Set(ran) };
  }

  it('matches the reference on a mostly-zero dy (the sparse path) and on a dense one (the GEMM path)', async () => {
    const n = 3 * 5 * 5 * 10;
    const sparse = uniform(n, 3).map((v, i) => (i % 10 === 0 ? v : 0));
    expect(sparse.filter((v) => v !== 0).length / n).toBeLessThanOrEqual(SPARSE_FILTER_MAX_DENSITY);
    const paths: [Float32Array, string][] = [[sparse, 'conv2dBackwardFilterSparse_f32'], [uniform(n, 4), 'conv2dBackwardFilter_f32']];
    for (const [dy, path] of paths) {
      const { got, want, ran } = await run(dy, uniform(3 * 4 * 9 * 8, 5));
      expect(ran).toEqual(new Set([path]));
      expectArraysClose(got, want, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it('a NaN in x still reaches the gradient when dy is sparse (the GEMM path runs instead)', async () => {
    const n = 3 * 5 * 5 * 10;
    const dy = uniform(n, 3).map((v, i) => (i % 10 === 0 ? v : 0));
    const x = uniform(3 * 4 * 9 * 8, 5);
    x[40] = Number.NaN;
    const { got, want, ran } = await run(dy, x);
    expect(ran).toEqual(new Set(['conv2dBackwardFilter_f32']));
    expect(got.some(Number.isNaN)).toBe(true);
    expectArraysClose(got, want, { rtol: 1e-4, atol: 1e-5 });
  });
});

describe('1×1 stride-1 unpadded convolutions (the image is its own column matrix: no im2col)', () => {
  it('conv2d, conv2dBackwardInput and conv2dBackwardFilter match the reference', async () => {
    const registry = registryWith();
    const xShape = [3, 5, 4, 6], filterShape = [7, 5, 1, 1] as [number, number, number, number], dyShape = [3, 7, 4, 6];
    const [xv, kv, bv, gv] = [uniform(360, 6), uniform(35, 7), uniform(7, 8), uniform(504, 9)];
    const q = (v: Float32Array, shape: number[]) => R.quantize(R.ref(v, shape), 'float32');
    const [xr, kr, br, gr] = [q(xv, xShape), q(kv, filterShape), q(bv, [7]), q(gv, dyShape)];
    const x = ops.tensor(xv, xShape, { registry }), k = ops.tensor(kv, filterShape, { registry });
    const b = ops.tensor(bv, [7], { registry }), dy = ops.tensor(gv, dyShape, { registry });
    const geo = { strides: [1, 1] as [number, number], pad: [0, 0] as [number, number] };
    const tol = { rtol: 1e-4, atol: 1e-5 };
    expectArraysClose(await ops.conv2d(x, k, { bias: b, activation: 'relu' }).data(), R.conv2d({ x: xr, filter: kr, bias: br }, { ...geo, activation: 'relu', alpha: 0 }).values, tol);
    expectArraysClose(await ops.conv2dBackwardInput(dy, k, xShape, geo).data(), R.conv2dBackwardInput({ dy: gr, filter: kr }, { ...geo, inputShape: xShape as [number, number, number, number] }).values, tol);
    expectArraysClose(await ops.conv2dBackwardFilter(x, dy, filterShape, geo).data(), R.conv2dBackwardFilter({ x: xr, dy: gr }, { ...geo, filterShape }).values, tol);
    registry.removeBackend('wasm');
  });
});

describe('Winograd F(2×2, 3×3) forward (3×3 stride 1, ≥ 8 channels and filters)', () => {
  const q = (v: Float32Array, shape: number[]) => R.quantize(R.ref(v, shape), 'float32');
  // Odd and even output sizes (tiles cut at the edges, partial groups of four tiles), padding,
  // a batch past one group of 512 tiles (15 images × 36 tiles), bias and activations.
  const cases = [
    { xShape: [2, 8, 13, 13], f: 8, pad: [0, 0], activation: 'relu' as const },
    { xShape: [3, 9, 7, 10], f: 11, pad: [1, 1], activation: 'leakyRelu' as const },
    { xShape: [15, 12, 13, 13], f: 16, pad: [0, 0], activation: 'linear' as const },
    { xShape: [1, 8, 20, 9], f: 9, pad: [1, 0], activation: 'relu' as const },
  ];
  it.each(cases)('matches the reference on x $xShape, $f filters, pad $pad, $activation', async ({ xShape, f, pad, activation }) => {
    const registry = registryWith();
    const ran = recordSplitExports(registry.backend as WasmBackend);
    const filterShape = [f, xShape[1]!, 3, 3];
    const geo = { strides: [1, 1] as [number, number], pad: pad as [number, number] };
    expect(winogradPays(computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], geo.strides, geo.pad))).toBe(true);
    const size = (s: number[]) => s.reduce((a, b) => a * b);
    const [xv, kv, bv] = [uniform(size(xShape), 11), uniform(size(filterShape), 12), uniform(f, 13)];
    const x = ops.tensor(xv, xShape, { registry }), k = ops.tensor(kv, filterShape, { registry }), b = ops.tensor(bv, [f], { registry });
    const got = await ops.conv2d(x, k, { ...geo, bias: b, activation, alpha: 0.1 }).data();
    const want = R.conv2d({ x: q(xv, xShape), filter: q(kv, filterShape), bias: q(bv, [f]) }, { ...geo, activation, alpha: 0.1 });
    expect(new Set(ran)).toEqual(new Set(['conv2dWinograd_f32']));
    expectArraysClose(got, want.values, { rtol: 1e-4, atol: 1e-5 });
    registry.removeBackend('wasm');
  });

  it('an Infinity in x takes the im2col path: the reference\'s ±Infinity, not the NaN the transforms would make', async () => {
    const registry = registryWith();
    const xShape = [1, 8, 6, 6], filterShape = [8, 8, 3, 3];
    const xv = uniform(288, 14).map(Math.abs);
    xv[14] = Number.POSITIVE_INFINITY;
    const kv = uniform(576, 15).map(Math.abs);
    const ran = recordSplitExports(registry.backend as WasmBackend);
    const got = await ops.conv2d(ops.tensor(xv, xShape, { registry }), ops.tensor(kv, filterShape, { registry })).data();
    const want = R.conv2d({ x: q(xv, xShape), filter: q(kv, filterShape) }, { strides: [1, 1], pad: [0, 0], activation: 'linear', alpha: 0 }).values;
    expect(ran).toEqual(['conv2d_f32']);
    expect(Array.from(got).some((v) => v === Number.POSITIVE_INFINITY)).toBe(true);
    expect(Array.from(got).some(Number.isNaN)).toBe(false);
    expectArraysClose(got, want, { rtol: 1e-4, atol: 1e-5 });
    registry.removeBackend('wasm');
  });
});

describe('2×2 max pooling at stride 2 (the SIMD path of both presets)', () => {
  it('matches the reference exactly with ties, signed zeros, NaNs and odd sizes', async () => {
    const registry = registryWith();
    // 2 images × 3 channels of 7×19: odd height and width (a row and a column no window covers),
    // 9 windows per row (two SIMD steps of 4 and a scalar one).
    const shape = [2, 3, 7, 19];
    const n = 2 * 3 * 7 * 19;
    const rng = createRandom(12);
    const values = Array.from({ length: n }, () => {
      const u = rng.uniform(0, 1);
      // Many ties: zeros (as behind a ReLU), both signed zeros, repeated values, some NaNs.
      return u < 0.3 ? 0 : u < 0.4 ? -0 : u < 0.5 ? 0.5 : u < 0.53 ? Number.NaN : rng.uniform(-1, 1);
    });
    const geo = { poolSize: [2, 2] as [number, number], strides: [2, 2] as [number, number] };
    const x = ops.tensor(values, shape, { registry });
    const y = ops.maxPool(x, { poolSize: 2 });
    const xr = R.quantize(R.ref(values, shape), 'float32');
    const yr = R.maxPool({ x: xr }, geo);
    expectArraysClose(await y.data(), yr.values, { rtol: 0, atol: 0 });
    const dyValues = Array.from({ length: yr.values.length }, () => rng.uniform(-1, 1));
    const dy = ops.tensor(dyValues, yr.shape, { registry });
    const dx = ops.maxPoolBackward(dy, x, { poolSize: 2 });
    const want = R.maxPoolBackward({ dy: R.quantize(R.ref(dyValues, yr.shape), 'float32'), x: xr }, geo);
    expectArraysClose(await dx.data(), want.values, { rtol: 0, atol: 0 });
    registry.removeBackend('wasm');
  });
});
