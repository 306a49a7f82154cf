// webgpu mode in Node (Dawn's GLES path on llvmpipe, featureLevel 'compatibility',
// EGL_PLATFORM=surfaceless): its own process, never with headless-gl. WebGPU has no
// synchronous readback (canReadSync false); the conformance suite, the traps, the
// 100-step memory test and the 50-step MNIST parity all read with `await data()`, so they
// run here as in every other mode. Every kernel is also checked against the CPU backend.
import { cpuBackend } from '@backprop/backend-cpu';
import * as ops from '@backprop/tensor';
import { KERNEL_NAMES, type KernelName, Registry, type Tensor } from '@backprop/tensor';
import { describeBackendConformance } from '@backprop/tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import { defineTrainingTests, defineTrapTests, yieldBetweenTests } from './suites.js';

yieldBetweenTests();
beforeAll(async () => {
  await lib.installNodeWebGPU();
});

describeBackendConformance('backend-gpujs webgpu mode', lib.gpujsBackend({ mode: 'webgpu' }), { backendName: 'gpujs', dtypes: ['float32'] });
defineTrapTests('webgpu', lib);
defineTrainingTests('webgpu', lib);

/** One invocation per kernel on inputs built by `t`; returns the output tensors. */
function invocations(t: (shape: number[], lo?: number, hi?: number) => Tensor, int: (v: number[]) => Tensor): Record<KernelName, () => Tensor[]> {
  const g2 = { poolSize: 2 as const, strides: 1 as const };
  const r = t;
  return {
    add: () => [ops.add(r([2, 3]), r([2, 3]))],
    sub: () => [ops.sub(r([2, 3]), r([2, 3]))],
    mul: () => [ops.mul(r([2, 3]), r([2, 3]))],
    div: () => [ops.div(r([2, 3]), r([2, 3], 1, 2))],
    maximum: () => [ops.maximum(r([2, 3]), r([2, 3]))],
    minimum: () => [ops.minimum(r([2, 3]), r([2, 3]))],
    addScalar: () => [ops.addScalar(r([4]), 2)],
    mulScalar: () => [ops.mulScalar(r([4]), 2)],
    powScalar: () => [ops.powScalar(r([4], 0, 1), 2), ops.powScalar(r([4], 0.1, 2), 1.5)],
    maximumScalar: () => [ops.maximumScalar(r([4]), 0)],
    minimumScalar: () => [ops.minimumScalar(r([4]), 0)],
    neg: () => [ops.neg(r([4]))],
    exp: () => [ops.exp(r([4]))],
    log: () => [ops.log(r([4], 1, 2))],
    log1p: () => [ops.log1p(r([4], 0, 1))],
    sqrt: () => [ops.sqrt(r([4], 0, 1))],
    square: () => [ops.square(r([4]))],
    abs: () => [ops.abs(r([4]))],
    sign: () => [ops.sign(r([4]))],
    cast: () => [ops.cast(r([4], -5, 5), 'int32')],
    relu: () => [ops.relu(r([4]))],
    reluBackward: () => [ops.reluBackward(r([4]), r([4]))],
    leakyRelu: () => [ops.leakyRelu(r([4]))],
    leakyReluBackward: () => [ops.leakyReluBackward(r([4]), r([4]))],
    sigmoid: () => [ops.sigmoid(r([4], -8, 8))],
    sigmoidBackward: () => [ops.sigmoidBackward(r([4]), r([4], 0, 1))],
    tanh: () => [ops.tanh(r([4], -3, 3))],
    tanhBackward: () => [ops.tanhBackward(r([4]), r([4]))],
    softmax: () => [ops.softmax(r([2, 3]))],
    softmaxBackward: () => [ops.softmaxBackward(r([2, 3]), r([2, 3], 0, 1))],
    logSoftmax: () => [ops.logSoftmax(r([2, 3]))],
    matMul: () => [ops.matMul(r([5, 1200]), r([7, 1200]), { transposeB: true, bias: r([7]), activation: 'relu' })],
    biasAdd: () => [ops.biasAdd(r([2, 3, 2, 2]), r([3]))],
    biasGrad: () => [ops.biasGrad(r([2, 3, 2, 2]))],
    sum: () => [ops.sum(r([2, 3, 4]), [0, 2], true), ops.sum(r([2500]))],
    max: () => [ops.max(r([2, 3, 4]), [1])],
    argMax: () => [ops.argMax(r([2, 3]), 1)],
    // ops.oneHot validates its labels with a synchronous read, so the kernel is run directly.
    oneHot: () => {
      const idx = int([0, 2, 1]);
      return [idx.registry.runKernel('oneHot', { indices: idx }, { depth: 3, dtype: 'float32' }) as Tensor];
    },
    conv2d: () => [ops.conv2d(r([2, 2, 5, 5]), r([3, 2, 3, 3]), { strides: 2, pad: 1, bias: r([3]), activation: 'tanh' })],
    conv2dBackwardFilter: () => [ops.conv2dBackwardFilter(r([2, 2, 5, 5]), r([2, 3, 3, 3]), [3, 2, 3, 3], { strides: 2, pad: 1 })],
    conv2dBackwardInput: () => [ops.conv2dBackwardInput(r([2, 3, 3, 3]), r([3, 2, 3, 3]), [2, 2, 5, 5], { strides: 2, pad: 1 })],
    maxPool: () => [ops.maxPool(r([1, 2, 4, 4]), g2)],
    maxPoolBackward: () => [ops.maxPoolBackward(r([1, 2, 3, 3]), r([1, 2, 4, 4]), g2)],
    avgPool: () => [ops.avgPool(r([1, 2, 4, 4]), g2)],
    avgPoolBackward: () => [ops.avgPoolBackward(r([1, 2, 3, 3]), [1, 2, 4, 4], g2)],
    l2Pool: () => [ops.l2Pool(r([1, 2, 4, 4]), g2)],
    l2PoolBackward: () => {
      const x = r([1, 2, 4, 4]);
      return [ops.l2PoolBackward(r([1, 2, 3, 3]), x, ops.l2Pool(x, g2), g2)];
    },
    affineResample: () => [ops.affineResample(r([2, 2, 4, 5]), t([2, 6], 0.5, 1.5))],
    softmaxCrossEntropy: () => {
      const o = ops.softmaxCrossEntropy(r([2, 3]), r([2, 3], 0, 1));
      return [o.loss, o.grad];
    },
    sigmoidCrossEntropy: () => {
      const o = ops.sigmoidCrossEntropy(r([2, 3]), r([2, 3], 0, 1));
      return [o.loss, o.grad];
    },
    sgdUpdate: () => {
      const p = r([5]);
      ops.sgdUpdate(p, r([5]), 0.1, 0.01);
      return [p];
    },
    momentumUpdate: () => {
      const [p, v] = [r([5]), r([5])];
      ops.momentumUpdate(p, r([5]), v, { learningRate: 0.1, momentum: 0.9, nesterov: true });
      return [p, v];
    },
    adamUpdate: () => {
      const [p, m, v] = [r([5]), r([5]), r([5], 0, 1)];
      ops.adamUpdate(p, r([5]), m, v, { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 2 });
      return [p, m, v];
    },
    rmspropUpdate: () => {
      const [p, s] = [r([5]), r([5], 0, 1)];
      ops.rmspropUpdate(p, r([5]), s, { learningRate: 0.1, rho: 0.9, epsilon: 1e-7 });
      return [p, s];
    },
  };
}

async function runOn(registry: Registry, name: KernelName, seed: number): Promise<Float64Array[]> {
  const rng = ops.createRandom(seed);
  const t = (shape: number[], lo = -1, hi = 1): Tensor =>
    ops.tensor(Float32Array.from({ length: ops.sizeOfShape(shape) }, () => rng.uniform(lo, hi)), shape, { registry });
  const int = (v: number[]): Tensor => ops.tensor(v, [v.length], { registry, dtype: 'int32' });
  const outs = invocations(t, int)[name]();
  const values: Float64Array[] = [];
  for (const o of outs) values.push(Float64Array.from(await o.data()));
  return values;
}

describe('backend-gpujs webgpu mode (Node, Dawn GLES): every kernel against the CPU backend, read with data()', () => {
  let gpu: Registry;
  let cpu: Registry;
  beforeAll(() => {
    gpu = new Registry().use(lib.gpujsBackend({ mode: 'webgpu' }));
    gpu.setBackend('gpujs');
    cpu = new Registry().use(cpuBackend);
    cpu.setBackend('cpu');
  });
  afterAll(async () => {
    const backend = gpu.backend as lib.GpujsBackend;
    gpu.removeBackend('gpujs');
    await backend.whenDisposed();
  });

  for (const name of KERNEL_NAMES) {
    it(name, async () => {
      const expected = await runOn(cpu, name, 7);
      const actual = await runOn(gpu, name, 7);
      expect(actual.length).toBe(expected.length);
      actual.forEach((a, i) => {
        expect(a.length).toBe(expected[i].length);
        a.forEach((v, j) => {
          const e = expected[i][j];
          expect(Math.abs(v - e), `${name} output ${i}[${j}]: webgpu ${v}, cpu ${e}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(e));
        });
      });
    });
  }

  it('dataSync() explains that webgpu reads are asynchronous', () => {
    const t = ops.tensor([1, 2], [2], { registry: gpu });
    expect(t.canReadSync).toBe(false);
    expect(() => t.dataSync()).toThrow(/cannot read synchronously .*`await tensor\.data\(\)`/);
    expect(() => (gpu.backend as lib.GpujsBackend).readSync(t.dataId)).toThrow(/synchronous reads are impossible in webgpu mode/);
  });

  it('memory returns to baseline after kernels and disposal', async () => {
    const before = gpu.memory();
    const x = ops.tensor([1, 2, 3, 4], [2, 2], { registry: gpu });
    const e = ops.exp(x);
    const y = ops.matMul(e, x);
    expect(Array.from(await y.data()).length).toBe(4);
    e.dispose();
    gpu.scope(() => {
      ops.relu(ops.exp(y));
    });
    x.dispose();
    y.dispose();
    await (gpu.backend as lib.GpujsBackend).flush();
    const after = gpu.memory();
    expect([after.numTensors, after.numDataBuffers, after.numBytes]).toEqual([before.numTensors, before.numDataBuffers, before.numBytes]);
  });
});
