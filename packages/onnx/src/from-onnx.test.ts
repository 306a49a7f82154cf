import { type BatchNormalization, Conv2D, Dense, type Dropout, Flatten, type LeakyReLU, MaxPool2D, paperNetwork, Sequential } from '@backprop/layers';
import { BackpropError } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { everyLayerModel, normalizedModel, registry } from '../test/models.js';
import { onnx } from './generated/onnx.js';
import { fromOnnx, toOnnx } from './index.js';

const F = onnx.TensorProto.DataType.FLOAT;
const AT = onnx.AttributeProto.AttributeType;

function tensor(name: string, dims: number[], values: number[] | Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: F, floatData: Array.from(values) };
}
function ints(name: string, v: number[]): onnx.IAttributeProto {
  return { name, type: AT.INTS, ints: v };
}
function int(name: string, v: number): onnx.IAttributeProto {
  return { name, type: AT.INT, i: v };
}
function info(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } };
}

/** A small hand-built graph: x [N,1,4,4] → Conv 2@3×3 → Relu → Flatten → Gemm 3 (transB 0) → Softmax, with node overrides. */
function graph(patch: (nodes: onnx.INodeProto[], inits: onnx.ITensorProto[]) => void = () => {}, opset = 13, inputDims: (number | string)[] = ['N', 1, 4, 4]): Uint8Array {
  const inits = [
    tensor('W', [2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => (i - 9) / 10)),
    tensor('B', [2], [0.1, -0.2]),
    tensor('G', [8, 3], Array.from({ length: 24 }, (_, i) => Math.sin(i))),
    tensor('C', [3], [0.5, 0, -0.5]),
  ];
  const nodes: onnx.INodeProto[] = [
    { opType: 'Conv', name: 'conv', input: ['x', 'W', 'B'], output: ['c'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [0, 0, 0, 0])] },
    { opType: 'Relu', name: 'relu', input: ['c'], output: ['r'] },
    { opType: 'Flatten', name: 'flat', input: ['r'], output: ['f'], attribute: [int('axis', 1)] },
    { opType: 'Gemm', name: 'gemm', input: ['f', 'G', 'C'], output: ['g'] },
    { opType: 'Softmax', name: 'softmax', input: ['g'], output: ['y'] },
  ];
  patch(nodes, inits);
  const last = nodes[nodes.length - 1].output![0];
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    metadataProps: [{ key: 'class_names', value: '["a","b","c"]' }],
    graph: { name: 'tiny', node: nodes, initializer: inits, input: [info('x', inputDims)], output: [info(last, ['N', 3])] },
  }).finish();
}

function refusal(bytes: Uint8Array): string {
  try {
    fromOnnx(bytes, { registry }).model.dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(BackpropError);
    return (error as Error).message;
  }
  throw new Error('expected fromOnnx to refuse the graph');
}

describe('fromOnnx reads a chain back into a Sequential', () => {
  it('a hand-built graph: layers, folded activations, transposed Gemm weights, class names, float_data', () => {
    const { model, classNames, metadata } = fromOnnx(graph(), { registry });
    try {
      expect(classNames).toEqual(['a', 'b', 'c']);
      expect(metadata.class_names).toBe('["a","b","c"]');
      expect(model.name).toBe('tiny');
      expect(model.inputShape).toEqual([1, 4, 4]);
      expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'Flatten', 'Dense']);
      expect((model.layers[0] as Conv2D).activation).toBe('relu');
      expect((model.layers[2] as Dense).activation).toBe('softmax');
      const dense = model.getWeights().find((w) => w.shape.length === 2)!;
      expect(dense.shape).toEqual([3, 8]);
      // G is (in 8, out 3); Backprop's kernel is (out, in): kernel[o][i] = G[i][o].
      expect(dense.values[1 * 8 + 2]).toBe(Math.fround(Math.sin(2 * 3 + 1)));
      const out = model.predict({ values: new Float32Array(16).fill(1), shape: [1, 1, 4, 4] });
      const probs = out.dataSync();
      out.dispose();
      expect(Array.from(probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    } finally {
      model.dispose();
    }
  });

  it('MatMul + Add, Reshape [0, -1], Dropout, Identity, standalone activations, auto_pad VALID, raw_data', () => {
    const bytes = graph((nodes, inits) => {
      inits.push({ name: 'S', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, -1] });
      const raw = new Uint8Array(new Float32Array(Array.from({ length: 24 }, (_, i) => i / 24)).buffer);
      inits.push({ name: 'M', dims: [8, 3], dataType: F, rawData: raw });
      nodes[0].attribute = [{ name: 'auto_pad', type: AT.STRING, s: new TextEncoder().encode('VALID') }];
      nodes.splice(1, 0, { opType: 'Identity', input: ['c'], output: ['c2'] });
      nodes[2] = { opType: 'Tanh', input: ['c2'], output: ['r'] };
      nodes.splice(3, 0, { opType: 'Relu', input: ['r'], output: ['r2'] });
      nodes[4] = { opType: 'Reshape', input: ['r2', 'S'], output: ['f'] };
      nodes[5] = { opType: 'MatMul', input: ['f', 'M'], output: ['m'] };
      nodes.splice(6, 0, { opType: 'Add', input: ['m', 'C'], output: ['g0'] }, { opType: 'Dropout', input: ['g0'], output: ['g', ''] });
      nodes[8] = { opType: 'LeakyRelu', input: ['g'], output: ['y'], attribute: [{ name: 'alpha', type: AT.FLOAT, f: 0.3 }] };
    });
    const { model } = fromOnnx(bytes, { registry });
    try {
      // The Dropout (ratio omitted: 0.5) stays a layer, so the LeakyRelu after it is not folded into the Dense.
      expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'ReLU', 'Flatten', 'Dense', 'Dropout', 'LeakyReLU']);
      expect((model.layers[0] as Conv2D).activation).toBe('tanh');
      expect((model.layers[3] as Dense).activation).toBe('linear');
      expect((model.layers[4] as Dropout).rate).toBe(0.5);
      expect((model.layers[5] as LeakyReLU).alpha).toBe(0.3);
      const bias = model.getWeights().find((w) => w.name.endsWith('/bias') && w.shape[0] === 3)!;
      expect(Array.from(bias.values)).toEqual([0.5, 0, -0.5]);
    } finally {
      model.dispose();
    }
  });

  it('BatchNormalization (inference) and Dropout (ratio input, or the attribute before opset 12) become Backprop layers', () => {
    const bn = (attrs: onnx.IAttributeProto[] = [], variance = [0.5, 2]) =>
      graph((n, inits) => {
        inits.push(tensor('bn/gamma', [2], [1.5, -0.5]), tensor('bn/beta', [2], [0.1, 0.2]), tensor('bn/mean', [2], [0.3, -0.3]), tensor('bn/var', [2], variance));
        inits.push({ name: 'ratio', dims: [], dataType: F, floatData: [0.2] });
        n.splice(1, 0, { opType: 'BatchNormalization', name: 'bn', input: ['c', 'bn/gamma', 'bn/beta', 'bn/mean', 'bn/var'], output: ['b'], attribute: [{ name: 'epsilon', type: AT.FLOAT, f: 1e-5 }, ...attrs] });
        n[2].input = ['b'];
        n.splice(3, 0, { opType: 'Dropout', name: 'drop', input: ['r', 'ratio'], output: ['d'] });
        n[4].input = ['d'];
      });
    const { model } = fromOnnx(bn(), { registry });
    try {
      expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'BatchNormalization', 'ReLU', 'Dropout', 'Flatten', 'Dense']);
      const layer = model.layers[1] as BatchNormalization;
      expect([layer.name, layer.epsilon, layer.momentum]).toEqual(['bn', 1e-5, 0.9]);
      expect((model.layers[3] as Dropout).rate).toBe(0.2);
      const w = Object.fromEntries(model.getWeights().map((x) => [x.name, Array.from(x.values)]));
      expect(w['bn/gamma']).toEqual([1.5, -0.5]);
      expect(w['bn/movingVariance']).toEqual([0.5, 2]);
      expect(w['bn/movingMean']).toEqual([Math.fround(0.3), Math.fround(-0.3)]);
    } finally {
      model.dispose();
    }
    // Opset 11: the ratio is an attribute.
    const old = graph((n) => { n.splice(1, 0, { opType: 'Dropout', name: 'd11', input: ['c'], output: ['c1'], attribute: [{ name: 'ratio', type: AT.FLOAT, f: 0.4 }] }); n[2].input = ['c1']; }, 11);
    const imported = fromOnnx(old, { registry }).model;
    expect((imported.layers[1] as Dropout).rate).toBe(0.4);
    imported.dispose();
    // Refusals name the node and the reason.
    expect(refusal(bn([{ name: 'training_mode', type: AT.INT, i: 1 }]))).toMatch(/node 1 'bn' \(BatchNormalization\): training_mode 1 is not supported/);
    expect(refusal(bn([], [0.5, -1]))).toMatch(/'bn' \(BatchNormalization\): var 'bn\/var' holds -1 at index 1; a variance is never negative/);
    expect(refusal(graph((n, inits) => { inits.push(tensor('g3', [3], [1, 1, 1]), tensor('b3', [3], [0, 0, 0])); n.splice(1, 0, { opType: 'BatchNormalization', name: 'bn3', input: ['c', 'g3', 'b3', 'b3', 'g3'], output: ['b'] }); n[2].input = ['b']; }))).toMatch(/'bn3' \(BatchNormalization\): scale 'g3' has 3 values; the input has 2 channels/);
    expect(refusal(graph((n, inits) => {
      inits.push({ name: 'train', dims: [], dataType: onnx.TensorProto.DataType.BOOL, int32Data: [1] });
      n.splice(1, 0, { opType: 'Dropout', name: 'dt', input: ['c', '', 'train'], output: ['c1'] });
      n[2].input = ['c1'];
    }))).toMatch(/'dt' \(Dropout\): training_mode 'train' is true; only inference-mode Dropout is supported/);
    expect(refusal(graph((n, inits) => {
      inits.push({ name: 'one', dims: [], dataType: F, floatData: [1] });
      n.splice(1, 0, { opType: 'Dropout', name: 'd1', input: ['c', 'one'], output: ['c1'] });
      n[2].input = ['c1'];
    }))).toMatch(/'d1' \(Dropout\): ratio 1 must be in \[0, 1\)/);
  });

  it('refuses, naming the node and its operator, what Backprop cannot represent', () => {
    const attr = (i: number, a: onnx.IAttributeProto[]) => graph((n) => { n[i].attribute = [...(n[i].attribute ?? []), ...a]; });
    expect(refusal(graph((n) => { n[0].attribute = [ints('pads', [0, 0, 1, 1])]; }))).toMatch(/node 0 'conv' \(Conv\).*asymmetric pads/);
    expect(refusal(graph((n) => { n[0].attribute = [ints('pads', [1, 0, 0, 0])]; }))).toMatch(/asymmetric pads \[1, 0, 0, 0\]/);
    expect(refusal(attr(0, [ints('dilations', [2, 2])]))).toMatch(/'conv' \(Conv\): dilations \[2, 2\]/);
    expect(refusal(attr(0, [int('group', 2)]))).toMatch(/'conv' \(Conv\): group 2/);
    const autoPad = (v: string) => ({ name: 'auto_pad', type: AT.STRING, s: new TextEncoder().encode(v) });
    // 3×3 at stride 2 on 4 rows: SAME needs 1 zero, which ONNX puts on one side.
    expect(refusal(attr(0, [autoPad('SAME_UPPER'), ints('strides', [2, 2])]))).toMatch(/'conv' \(Conv\): auto_pad SAME_UPPER needs 1 zero\(s\) of vertical padding for kernel 3, stride 2 on size 4; ONNX puts the odd one at the bottom/);
    expect(refusal(attr(0, [autoPad('SAME_LOWER'), ints('strides', [2, 2])]))).toMatch(/auto_pad SAME_LOWER .*at the top/);
    expect(refusal(graph((n) => { n[0].attribute = [autoPad('SAME_UPPER'), ints('pads', [1, 1, 1, 1])]; }))).toMatch(/auto_pad SAME_UPPER and non-zero pads/);
    expect(refusal(attr(0, [autoPad('SAME')]))).toMatch(/auto_pad 'SAME' is not an ONNX auto_pad/);
    expect(refusal(graph((n) => { n.splice(1, 0, { opType: 'MaxPool', name: 'mp', input: ['c'], output: ['p'], attribute: [ints('kernel_shape', [2, 2]), autoPad('SAME_UPPER')] }); n[2].input = ['p']; }))).toMatch(/'mp' \(MaxPool\): auto_pad SAME_UPPER needs 1 zero/);
    expect(refusal(attr(3, [int('transA', 1)]))).toMatch(/'gemm' \(Gemm\): transA/);
    expect(refusal(attr(3, [{ name: 'alpha', type: AT.FLOAT, f: 2 }]))).toMatch(/'gemm' \(Gemm\): alpha 2/);
    expect(refusal(graph((n) => { n[2].attribute = [int('axis', 2)]; }))).toMatch(/'flat' \(Flatten\): axis 2/);
    expect(refusal(graph((n) => { n[1] = { opType: 'Sigmoid', name: 's', input: ['c'], output: ['r'] }; n.splice(2, 0, { opType: 'Softmax', name: 'sm', input: ['r'], output: ['r1'] }); n[3].input = ['r1']; }))).toMatch(/'sm' \(Softmax\).*\[N, classes\]/);
    const unsupported = refusal(graph((n) => { n[1] = { opType: 'Elu', name: 'elu', input: ['c'], output: ['r'] }; }));
    expect(unsupported).toMatch(/node 1 'elu' \(Elu\): is not supported: supported operators are Conv, Gemm, MatMul/);
    expect(refusal(graph((n) => { n.splice(1, 0, { opType: 'MaxPool', name: 'mp', input: ['c'], output: ['p'], attribute: [ints('kernel_shape', [2, 2]), int('ceil_mode', 1)] }); n[2].input = ['p']; }))).toMatch(/'mp' \(MaxPool\): ceil_mode 1/);
    expect(refusal(graph((n) => { n.splice(1, 0, { opType: 'AveragePool', name: 'ap', input: ['c'], output: ['p'], attribute: [ints('kernel_shape', [2, 2]), ints('pads', [1, 1, 1, 1])] }); n[2].input = ['p']; }))).toMatch(/'ap' \(AveragePool\): pads/);
    expect(refusal(graph((n) => { n.splice(1, 0, { opType: 'LpPool', name: 'lp', input: ['c'], output: ['p'], attribute: [ints('kernel_shape', [2, 2]), int('p', 3)] }); n[2].input = ['p']; }))).toMatch(/'lp' \(LpPool\): p 3/);
    // Not a chain: the Gemm reads the Conv's output, skipping the Relu and Flatten.
    expect(refusal(graph((n) => { n[3].input = ['c', 'G', 'C']; }))).toMatch(/'gemm' \(Gemm\): does not take the previous node's output 'f'.*not a single chain/);
    // A weight in float64, named.
    expect(refusal(graph((_, inits) => { inits[0] = { name: 'W', dims: [2, 1, 3, 3], dataType: onnx.TensorProto.DataType.DOUBLE, doubleData: new Array(18).fill(0) }; }))).toMatch(/'conv' \(Conv\): tensor 'W' has element type DOUBLE \(11\); only float32/);
    expect(refusal(graph((_, inits) => { inits[1].floatData = [1]; }))).toMatch(/tensor 'B' has 1 float_data values/);
    expect(refusal(graph((n) => { n[3].input = ['f', 'nowhere', 'C']; }))).toMatch(/input 'nowhere' is not an initializer/);
    expect(refusal(graph(undefined, 6))).toMatch(/opset 6 is not supported/);
    expect(refusal(graph((n) => { n[4].domain = 'com.microsoft'; }))).toMatch(/'softmax' \(Softmax\): is in domain 'com.microsoft'/);
  });

  it('refuses bad input shapes, bad class names, bytes that are not a model, and bad options', () => {
    const withInput = (dims: (number | string)[]) => graph(undefined, 13, dims);
    expect(refusal(withInput(['N', 1, 4]))).toMatch(/rank 3; expected \[N, C, H, W\] or \[N, D\]/);
    expect(refusal(withInput(['N', 1, 'H', 4]))).toMatch(/symbolic dimension 2/);
    expect(refusal(withInput(['N', 3, 4, 4]))).toMatch(/'conv' \(Conv\): kernel 'W' has 1 input channels; the input has 3/);
    const badNames = onnx.ModelProto.decode(graph());
    badNames.metadataProps = [onnx.StringStringEntryProto.create({ key: 'class_names', value: '["a"]' })];
    expect(refusal(onnx.ModelProto.encode(badNames).finish())).toMatch(/'class_names' has 1 names but the model has 3 outputs/);
    expect(refusal(new Uint8Array([0xff, 0xff, 0xff]))).toMatch(/^fromOnnx: not an ONNX model/);
    expect(refusal(new Uint8Array(0))).toMatch(/empty/);
    expect(refusal(new TextEncoder().encode('{"format":"backprop"}'))).toMatch(/^fromOnnx: /);
    expect(() => fromOnnx('x' as unknown as Uint8Array)).toThrow(BackpropError);
    expect(() => fromOnnx(graph(), { registry, bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
  });
});

/** mulberry32: a fixed-seed PRNG, so the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fromOnnx on corrupt bytes (fixed-seed fuzz of a real exported file)', () => {
  // [what, model, time budget, most cases, fewest cases] (the second file is 6.5× larger: each case decodes more).
  for (const [label, make, budgetMs, maxCases, minCases] of [
    ['the every-layer model', everyLayerModel, 8000, 4000, 1000],
    ['a model with BatchNormalization, Dropout and RandomFlip', normalizedModel, 5000, 2000, 500],
  ] as const) {
  it(`every truncation and bit flip of ${label} is a BackpropError or a valid model`, () => {
    const { model: source } = make();
    // A copy as a plain Uint8Array: in Node the encoder returns a Buffer, whose slice() is a view, not a copy.
    const bytes = new Uint8Array(toOnnx(source, { classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }));
    source.dispose();
    const random = prng(20240615);
    const outcomes = { refused: 0, valid: 0 };
    const messages = new Set<string>();
    const input = { values: new Float32Array(784).map((_, i) => (i % 29) / 29), shape: [1, 1, 28, 28] };
    const tryBytes = (candidate: Uint8Array) => {
      let imported;
      try {
        imported = fromOnnx(candidate, { registry });
      } catch (error) {
        if (!(error instanceof BackpropError)) throw new Error(`not a BackpropError: ${String(error)}`);
        outcomes.refused++;
        messages.add(error.message.replace(/[0-9]+/g, '#').slice(0, 60));
        return;
      }
      // A valid model: it runs and gives outputs of the right shape (a flipped input dimension
      // can still make a valid model — a 28×29 input pooled to the same flatten size — so its own input shape).
      const shape = [1, ...imported.model.inputShape];
      const size = shape.reduce((a, b) => a * b, 1);
      const out = imported.model.predict(size === 784 ? { ...input, shape } : { values: new Float32Array(size).fill(0.5), shape });
      expect(out.shape).toEqual([1, ...imported.model.outputShape]);
      out.dispose();
      imported.model.dispose();
      outcomes.valid++;
    };
    const started = Date.now();
    let cases = 0;
    // Every truncation point in the header region (first 512 bytes), then random ones.
    for (let n = 0; n < Math.min(512, bytes.length); n++, cases++) tryBytes(bytes.subarray(0, n));
    while (Date.now() - started < budgetMs && cases < maxCases) {
      cases++;
      if (random() < 0.2) {
        tryBytes(bytes.subarray(0, Math.floor(random() * bytes.length)));
        continue;
      }
      const copy = bytes.slice();
      const flips = 1 + Math.floor(random() * 4);
      // Flip bits mostly in the structure (everything but the long raw_data runs is in the first and last few hundred bytes).
      for (let f = 0; f < flips; f++) {
        const at = random() < 0.5 ? Math.floor(random() * copy.length) : random() < 0.5 ? Math.floor(random() * 600) : copy.length - 1 - Math.floor(random() * 600);
        copy[at] ^= 1 << Math.floor(random() * 8);
      }
      tryBytes(copy);
    }
    console.log(`fromOnnx fuzz (${label}): ${cases} cases of a ${bytes.length}-byte file in ${Date.now() - started} ms: ${outcomes.refused} refused (${messages.size} distinct messages), ${outcomes.valid} valid models`);
    expect(outcomes.refused + outcomes.valid).toBe(cases);
    expect(cases).toBeGreaterThanOrEqual(minCases);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.valid).toBeGreaterThan(0);
  });
  }
});

describe('fromOnnx builds the model in the given dtype and keeps the weights', () => {
  it('float64: the float32 weights widened exactly', () => {
    const source = new Sequential({ inputShape: [1, 6, 6], registry, seed: 4, layers: [new Conv2D({ filters: 2, kernelSize: 3 }), new MaxPool2D({ poolSize: 2 }), new Flatten(), new Dense({ units: 3 })] });
    const { model } = fromOnnx(toOnnx(source), { registry, dtype: 'float64', name: 'wide' });
    try {
      expect(model.dtype).toBe('float64');
      expect(model.name).toBe('wide');
      const a = source.getWeights();
      const b = model.getWeights();
      expect(b.map((w) => w.name)).toEqual(a.map((w) => w.name));
      a.forEach((w, i) => expect(Array.from(b[i].values)).toEqual(Array.from(w.values)));
    } finally {
      model.dispose();
      source.dispose();
    }
  });

  it('the paper preset keeps its layer names', () => {
    const { model: source } = paperNetwork({ registry, seed: 2 });
    const { model } = fromOnnx(toOnnx(source), { registry });
    expect(model.layers.map((l) => l.name)).toEqual(source.layers.map((l) => l.name));
    model.dispose();
    source.dispose();
  });
});
