import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { allocArray, type DataType, type TypedArray } from './dtype.js';
import { SPEC_VERSION } from './kernels.js';
import { add, conv2d, createRandom, defineKernel, oneHot, type Plugin, Registry, randomNormal, tensor, zeros } from './index.js';
import { asyncReadsOnly } from './testing/index.js';

/**
 * A minimal array backend with a single `add` kernel: enough to exercise the
 * registry, scopes and memory accounting without depending on a real backend
 * package (which depends on this one).
 */
class ArrayBackend implements Backend {
  readonly specVersion: number = SPEC_VERSION;
  private readonly live = new Set<{ values: TypedArray }>();
  disposed = false;
  constructor(readonly name: string) {}
  write(values: TypedArray) {
    const id = { values: values.slice() };
    this.live.add(id);
    return id;
  }
  alloc(size: number, dtype: DataType) {
    const id = { values: allocArray(dtype, size) };
    this.live.add(id);
    return id;
  }
  readSync(dataId: object) {
    return (dataId as { values: TypedArray }).values.slice();
  }
  async read(dataId: object) {
    return this.readSync(dataId);
  }
  disposeData(dataId: object) {
    this.live.delete(dataId as { values: TypedArray });
  }
  memory() {
    let numBytes = 0;
    for (const id of this.live) numBytes += id.values.byteLength;
    return { numDataBuffers: this.live.size, numBytes };
  }
  dispose() {
    this.disposed = true;
  }
}

function arrayPlugin(name: string, priority = 1): Plugin {
  return {
    name: `test-${name}`,
    install(registry) {
      registry.registerBackend(name, () => new ArrayBackend(name), { priority });
      registry.registerKernel(
        defineKernel({
          kernelName: 'add',
          backendName: name,
          kernelFunc: ({ inputs, backend }) => {
            const b = backend as ArrayBackend;
            const a = (inputs.a.dataId as { values: TypedArray }).values;
            const c = (inputs.b.dataId as { values: TypedArray }).values;
            const out = b.alloc(a.length, inputs.a.dtype);
            for (let i = 0; i < a.length; i++) out.values[i] = a[i] + c[i];
            return { dataId: out, shape: inputs.a.shape, dtype: inputs.a.dtype };
          },
        }),
      );
    },
  };
}

describe('Registry: plugins and backends', () => {
  it('picks the highest-priority backend and swaps in one line', () => {
    const registry = new Registry().use(arrayPlugin('slow', 1), arrayPlugin('fast', 5));
    expect(registry.backendNames()).toEqual(['fast', 'slow']);
    expect(registry.backendName).toBe('fast');
    registry.setBackend('slow');
    expect(registry.backendName).toBe('slow');
    expect(tensor([1, 2], [2], { registry }).backendName).toBe('slow');
  });

  it('reading the backend name chooses nothing: the first tensor fixes the automatic choice', () => {
    const registry = new Registry().use(arrayPlugin('slow', 1));
    expect(registry.backendName).toBe('slow');
    expect(registry.backend).toBeInstanceOf(ArrayBackend);
    // Registered after the name was read, before any tensor: the higher priority wins.
    registry.use(arrayPlugin('fast', 5));
    expect(registry.backendName).toBe('fast');
    expect(tensor([1], [1], { registry }).backendName).toBe('fast');
    // Tensors now live on 'fast': a later, higher-priority backend does not move the model's ops.
    registry.use(arrayPlugin('faster', 9));
    expect(registry.backendName).toBe('fast');
    expect(tensor([1], [1], { registry }).backendName).toBe('fast');
    // An explicit choice always wins; removing the active backend lets the next tensor choose again.
    registry.setBackend('slow');
    expect(registry.backendName).toBe('slow');
    registry.removeBackend('slow');
    expect(registry.backendName).toBe('faster');
    expect(tensor([1], [1], { registry }).backendName).toBe('faster');
  });

  it('installs a plugin once', () => {
    const registry = new Registry();
    const plugin = arrayPlugin('a');
    registry.use(plugin).use(plugin);
    expect(registry.plugins()).toEqual(['test-a']);
  });

  it('names the registered backends when an unknown one is requested', () => {
    const registry = new Registry().use(arrayPlugin('cpu'), arrayPlugin('gpu'));
    expect(() => registry.setBackend('tpu')).toThrow("setBackend: unknown backend 'tpu'; registered: cpu, gpu");
    expect(() => new Registry().backend).toThrow(/no backend is registered/);
  });

  it('names the kernel and the backend when a kernel is missing', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const x = zeros([1, 1, 3, 3], { registry });
    const k = zeros([1, 1, 2, 2], { registry });
    expect(() => conv2d(x, k)).toThrow("conv2d: kernel 'conv2d' is not registered for backend 'cpu'");
  });

  it('refuses duplicate registrations unless replacing is explicit', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    expect(() => registry.registerBackend('cpu', () => new ArrayBackend('cpu'))).toThrow(/already registered; pass \{ replace: true \}/);
    const dense = () => ({ className: 'Dense', getConfig: () => ({}) });
    expect(() => registry.layers.register('Dense', dense)).not.toThrow();
    expect(() => registry.layers.register('Dense', dense)).toThrow("register layer: 'Dense' is already registered; pass { replace: true } to replace it");
    expect(() => registry.layers.register('Dense', dense, { replace: true })).not.toThrow();
    expect(() => registry.losses.get('nope')).toThrow("loss: unknown loss 'nope'; registered: (none)");
  });

  it('create resolves a name, { name, config } or an instance, in one place for every component kind', () => {
    const registry = new Registry();
    const made: unknown[] = [];
    const sgd = (config?: Record<string, unknown>) => {
      made.push(config);
      return { name: 'sgd', iterations: 0, step() {}, currentLearningRate: () => 0.1, getConfig: () => config ?? {}, getState: () => ({ iterations: 0, tensors: {} }), setState() {}, dispose() {} };
    };
    registry.optimizers.register('sgd', sgd);
    expect(registry.optimizers.create('sgd').name).toBe('sgd');
    expect(registry.optimizers.create({ name: 'sgd', config: { learningRate: 1 } }).getConfig()).toEqual({ learningRate: 1 });
    expect(made).toEqual([undefined, { learningRate: 1 }]);
    // An instance (duck typed: a name and the kind's method) is returned as is, whatever its name.
    const own = { ...sgd(), name: 'mine' };
    expect(registry.optimizers.create(own)).toBe(own);
    const loss = { name: 'custom', compute: () => ({}) as never, getConfig: () => ({}) };
    expect(registry.losses.create(loss)).toBe(loss);
    const layer = { className: 'Custom', getConfig: () => ({}) };
    expect(registry.layers.create(layer)).toBe(layer);
    // Not an instance of this kind: resolved as a spec, and refused.
    expect(() => registry.losses.create(own as never)).toThrow("loss: unknown loss 'mine'; registered: (none)");
    expect(() => registry.losses.create(42 as never)).toThrow('loss: expected the name of a registered loss or { name, config }, got 42');
    // fallback: factories for names that are not registered (a package's own, before its plugin is installed).
    expect(registry.losses.create({ name: 'custom', config: {} }, { fallback: { custom: () => loss } })).toBe(loss);
    expect(() => registry.losses.create('other', { fallback: { custom: () => loss } })).toThrow("unknown loss 'other'");
  });

  it('rejects a backend built for another kernel spec version', () => {
    const registry = new Registry();
    registry.registerBackend('old', () => Object.assign(new ArrayBackend('old'), { specVersion: SPEC_VERSION - 1 }));
    expect(() => registry.setBackend('old')).toThrow(`implements kernel spec v${SPEC_VERSION - 1} but @backprop/tensor requires v${SPEC_VERSION}`);
  });

  it('refuses to mix tensors from two backends in one op', () => {
    const registry = new Registry().use(arrayPlugin('a'), arrayPlugin('b'));
    registry.setBackend('a');
    const x = tensor([1], [1], { registry });
    registry.setBackend('b');
    const y = tensor([1], [1], { registry });
    expect(() => add(y, x)).toThrow("add: input 'b' lives on backend 'a' but the active backend is 'b'");
  });
});

describe('Tensor and memory', () => {
  it('creates tensors from nested arrays, flat arrays and typed arrays', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const t = tensor([[1, 2, 3], [4, 5, 6]], undefined, { registry });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(new Float64Array([1, 2]), [2, 1], { registry }).dtype).toBe('float64');
    expect(() => tensor([1, 2, 3], [2, 2], { registry })).toThrow('tensor: shape [2, 2] needs 4 values, got 3');
  });

  it('reshape shares storage; the buffer is freed with the last view', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], { registry });
    const v = t.reshape([3, -1]);
    expect(v.shape).toEqual([3, 2]);
    expect(registry.memory().numDataBuffers).toBe(1);
    expect(registry.memory().numTensors).toBe(2);
    t.dispose();
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    v.dispose();
    expect(registry.memory()).toMatchObject({ numDataBuffers: 0, numTensors: 0, numBytes: 0 });
    expect(() => t.reshape([4, 2])).toThrow(/was disposed/);
    const u = tensor([1, 2, 3, 4, 5, 6], [6], { registry });
    expect(() => u.reshape([4, -1])).toThrow('reshape: cannot reshape [6] (6 elements) to [4, -1]');
  });

  it('a disposed tensor used again throws a clear error; double dispose is harmless', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const t = tensor([1, 2], [2], { registry });
    t.dispose();
    t.dispose();
    expect(registry.memory().numTensors).toBe(0);
    expect(() => t.dataSync()).toThrow(/dataSync: tensor #\d+ with shape \[2\] was disposed and cannot be used again/);
    const u = tensor([1, 2], [2], { registry });
    expect(() => add(u, t)).toThrow(/add: tensor #\d+ with shape \[2\] was disposed/);
  });

  it('scope disposes intermediates and keeps results and kept tensors', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const a = tensor([1, 2], [2], { registry });
    let kept: ReturnType<typeof add> | undefined;
    const result = registry.scope(() => {
      const b = add(a, a);
      const c = add(b, a);
      kept = registry.keep(add(c, c));
      return { c, nested: [c] };
    });
    expect(Array.from(result.c.dataSync())).toEqual([3, 6]);
    expect(Array.from(kept!.dataSync())).toEqual([6, 12]);
    expect(registry.memory().numTensors).toBe(3); // a, c, kept
    // Nested scopes hand their results to the enclosing one.
    const outer = registry.scope(() => registry.scope(() => add(a, a)));
    expect(outer.isDisposed).toBe(false);
    expect(registry.memory().numTensors).toBe(4);
  });

  it('scope disposes everything when the function throws, and rejects async functions', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const a = tensor([1], [1], { registry });
    expect(() =>
      registry.scope(() => {
        add(a, a);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(registry.memory().numTensors).toBe(1);
    expect(() => registry.scope(async () => add(a, a))).toThrow(/must be synchronous/);
    expect(registry.memory().numTensors).toBe(1);
  });

  it('seeded random tensors are reproducible', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const a = randomNormal([100], 0, 1, { seed: 42, registry }).dataSync();
    const b = randomNormal([100], 0, 1, { seed: 42, registry }).dataSync();
    const c = randomNormal([100], 0, 1, { seed: 43, registry }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const mean = Array.from(a).reduce((s, v) => s + v, 0) / 100;
    expect(Math.abs(mean)).toBeLessThan(0.3);
    const rng = createRandom(1);
    const values = Array.from({ length: 1000 }, () => rng.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
  });

  it('ops validate before touching data', () => {
    const registry = new Registry().use(arrayPlugin('cpu'));
    const x = zeros([1, 3, 4, 4], { registry });
    const k = zeros([2, 1, 5, 5], { registry });
    expect(() => conv2d(x, k)).toThrow('conv2d: input has 3 channels but filter expects 1');
    const k3 = zeros([2, 3, 5, 5], { registry });
    expect(() => conv2d(x, k3)).toThrow('conv2d: 5×5 kernel does not fit the 4×4 input with padding 0');
    expect(() => conv2d(x, k3, { strides: 0 })).toThrow('conv2d: stride must be a positive integer or a [height, width] pair of them, got 0');
    expect(() => conv2d(x, k3, { pad: -1 })).toThrow('conv2d: padding must be a non-negative integer or a [height, width] pair of them, got -1');
    expect(() => add(x, k)).toThrow("add: 'a' and 'b' must have the same shape, got [1, 3, 4, 4] and [2, 1, 5, 5]");
    expect(() => conv2d(x, undefined as never)).toThrow("conv2d: 'filter' must be a Tensor, got undefined");
  });
});

describe('backends without synchronous readback (canReadSync false)', () => {
  /** The array backend with a oneHot kernel, made async-read-only by the testing kit. */
  const oneHotPlugin: Plugin = {
    name: 'test-onehot',
    install(registry) {
      registry.registerKernel(
        defineKernel({
          kernelName: 'oneHot',
          backendName: 'arr',
          kernelFunc: ({ inputs, attrs, backend }) => {
            const labels = (inputs.indices.dataId as { values: TypedArray }).values;
            const out = (backend as ArrayBackend).alloc(labels.length * attrs.depth, attrs.dtype);
            labels.forEach((l, i) => {
              if (l >= 0 && l < attrs.depth) out.values[i * attrs.depth + l] = 1;
            });
            return { dataId: out, shape: [labels.length, attrs.depth], dtype: attrs.dtype };
          },
        }),
      );
    },
  };
  const make = (asyncOnly: boolean): Registry => {
    const registry = new Registry().use(asyncOnly ? asyncReadsOnly(arrayPlugin('arr'), 'arr') : arrayPlugin('arr'), oneHotPlugin);
    registry.setBackend('arr');
    return registry;
  };

  it('dataSync, arraySync and scalarSync throw a clear error; data() and array() work; toString does not throw', async () => {
    const registry = make(true);
    const t = tensor([1, 2, 3, 4], [2, 2], { registry });
    expect(t.canReadSync).toBe(false);
    expect(() => t.dataSync()).toThrow("dataSync: backend 'arr' cannot read synchronously (its device is read asynchronously, as WebGPU is); use `await tensor.data()`");
    expect(() => t.arraySync()).toThrow(/await tensor\.data\(\)/);
    expect(() => tensor([5], [], { registry }).scalarSync()).toThrow(/await tensor\.data\(\)/);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4]);
    expect(await t.array()).toEqual([[1, 2], [3, 4]]);
    expect(String(t)).toBe("Tensor([2, 2], float32) on 'arr' (read it with await tensor.data())");
    const sync = make(false);
    const s = tensor([1, 2, 3, 4], [2, 2], { registry: sync });
    expect(s.canReadSync).toBe(true);
    expect(await s.array()).toEqual(s.arraySync());
  });

  it('oneHot checks its labels where the backend reads synchronously and skips the check where it cannot', async () => {
    const sync = make(false);
    expect(() => oneHot(tensor([0, 3], [2], { registry: sync, dtype: 'int32' }), 3)).toThrow('oneHot: label 1 is 3, outside [0, 3)');
    expect(() => oneHot(tensor([0, 1.5], [2], { registry: sync, dtype: 'float32' }), 3)).toThrow('oneHot: label 1 is 1.5, outside [0, 3)');
    const asyncOnly = make(true);
    const y = oneHot(tensor([2, 3], [2], { registry: asyncOnly, dtype: 'int32' }), 3);
    expect(Array.from(await y.data())).toEqual([0, 0, 1, 0, 0, 0]);
  });
});
