import { Conv2D, Dense, Flatten, Layer, MaxPool2D, paperNetwork, Sequential } from '@backprop/layers';
import { BackpropError, type Tensor } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { everyLayerModel, normalizedModel, registry } from '../test/models.js';
import { onnx } from './generated/onnx.js';
import { ONNX_IR_VERSION, ONNX_OPSET, toOnnx, toOnnxAsync } from './index.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the decoded message as a plain object */
type Decoded = any;

/** The bytes decoded with the generated codec, as a plain object (int64 as numbers, empty repeated fields as []). */
function decode(bytes: Uint8Array): Decoded {
  const message = onnx.ModelProto.decode(bytes);
  return onnx.ModelProto.toObject(message, { longs: Number, enums: Number, arrays: true });
}

function attrs(node: Decoded): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of node.attribute as Decoded[]) {
    if (a.type === onnx.AttributeProto.AttributeType.INT) out[a.name] = a.i;
    else if (a.type === onnx.AttributeProto.AttributeType.INTS) out[a.name] = a.ints;
    else if (a.type === onnx.AttributeProto.AttributeType.FLOAT) out[a.name] = a.f;
  }
  return out;
}

function dims(info: Decoded): (string | number)[] {
  return (info.type.tensorType.shape.dim as Decoded[]).map((d) => (d.dimParam ? d.dimParam : d.dimValue));
}

describe('toOnnx: the graph, decoded with the generated codec', () => {
  it('BatchNormalization, Dropout and augmentation: inference nodes, constant γ/β when the layer learns none, no node for RandomFlip', () => {
    const { model } = normalizedModel();
    const graph = decode(toOnnx(model)).graph;
    expect(graph.node.map((n: Decoded) => n.opType)).toEqual([
      'Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Dropout', 'Flatten', 'Gemm', 'BatchNormalization', 'Tanh', 'Dropout', 'Gemm', 'Softmax',
    ]);
    // RandomFlip emits nothing: the Conv reads the graph's input.
    expect(graph.node[0].input[0]).toBe('input');
    const [, bn1, , , drop1, , , bn2, , drop2] = graph.node;
    const [flip, , bnLayer1, , , dropLayer1, , , bnLayer2, , dropLayer2] = model.layers;
    expect(flip.className).toBe('RandomFlip');
    expect(bn1.input).toEqual([graph.node[0].output[0], `${bnLayer1.name}/gamma`, `${bnLayer1.name}/beta`, `${bnLayer1.name}/movingMean`, `${bnLayer1.name}/movingVariance`]);
    expect(attrs(bn1).epsilon).toBe(Math.fround(1e-5));
    expect(attrs(bn1).momentum).toBe(Math.fround(0.9));
    expect(attrs(bn2).epsilon).toBe(Math.fround(1e-3));
    expect(attrs(bn2).momentum).toBe(Math.fround(0.99));
    const init = new Map((graph.initializer as Decoded[]).map((t) => [t.name, t]));
    const floats = (name: string): number[] => {
      const raw: Uint8Array = init.get(name).rawData;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
    };
    // scale: false and center: false → constant ones and zeros of the channel count.
    expect(init.get(`${bnLayer1.name}/gamma`).dims).toEqual([6]);
    expect(floats(`${bnLayer1.name}/gamma`)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(floats(`${bnLayer1.name}/beta`)).toEqual([0, 0, 0, 0, 0, 0]);
    // The learned ones are the layer's weights.
    const weights = new Map(model.getWeights().map((w) => [w.name, Array.from(w.values)]));
    expect(floats(`${bnLayer2.name}/gamma`)).toEqual(weights.get(`${bnLayer2.name}/gamma`));
    expect(floats(`${bnLayer2.name}/movingVariance`)).toEqual(weights.get(`${bnLayer2.name}/movingVariance`));
    // Dropout: the ratio as a scalar initializer, no training_mode (so the identity at inference).
    expect(drop1.input).toEqual([graph.node[3].output[0], `${dropLayer1.name}/ratio`]);
    expect(init.get(`${dropLayer1.name}/ratio`).dims).toEqual([]);
    expect(floats(`${dropLayer1.name}/ratio`)).toEqual([Math.fround(0.3)]);
    expect(floats(`${dropLayer2.name}/ratio`)).toEqual([0.5]);
    expect(drop2.input).toHaveLength(2);
    model.dispose();
  });

  it('the every-layer model: ops in order, attributes, opset, IR version, dynamic batch, metadata', () => {
    const { model } = everyLayerModel();
    const decoded = decode(toOnnx(model, { classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], metadata: { dataset: 'mnist' } }));
    expect(decoded.irVersion).toBe(ONNX_IR_VERSION);
    expect(decoded.opsetImport.map((o: Decoded) => [o.domain ?? '', o.version])).toEqual([['', ONNX_OPSET]]);
    expect(decoded.producerName).toBe('backprop');
    const graph = decoded.graph;
    expect(graph.node.map((n: Decoded) => n.opType)).toEqual([
      'Conv', 'LeakyRelu', 'AveragePool', 'Conv', 'Tanh', 'LpPool', 'Conv', 'Tanh', 'MaxPool', 'Relu', 'Flatten',
      'Gemm', 'Relu', 'Gemm', 'LeakyRelu', 'Sigmoid', 'Gemm', 'Tanh', 'LeakyRelu', 'Gemm', 'Softmax',
    ]);
    const [conv1, leaky1, avg, conv2, , lp, conv3, , max, , flatten, gemm1, , gemm2, leaky2, , , , leaky3, gemm4, softmax] = graph.node;
    expect(attrs(conv1)).toEqual({ kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
    expect(conv1.input).toEqual(['input', 'conv2d_0/kernel', 'conv2d_0/bias']);
    expect(attrs(leaky1).alpha).toBeCloseTo(0.1, 7);
    expect(attrs(avg)).toEqual({ kernel_shape: [2, 2], strides: [2, 2] });
    expect(attrs(conv2)).toMatchObject({ kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(attrs(lp)).toEqual({ kernel_shape: [2, 2], strides: [1, 1], p: 2 });
    expect(conv3.input).toHaveLength(2); // useBias: false
    expect(attrs(max)).toEqual({ kernel_shape: [3, 3], strides: [2, 1] });
    expect(attrs(flatten)).toEqual({ axis: 1 });
    expect(attrs(gemm1)).toEqual({ alpha: 1, beta: 1, transA: 0, transB: 1 });
    expect(gemm2.input).toHaveLength(2);
    expect(attrs(leaky2).alpha).toBeCloseTo(0.05, 7);
    expect(attrs(leaky3).alpha).toBeCloseTo(0.2, 7);
    expect(gemm4.input).toHaveLength(3);
    expect(attrs(softmax)).toEqual({ axis: -1 });
    // Each node's output feeds the next; the last is the graph's output.
    for (let i = 1; i < graph.node.length; i++) expect(graph.node[i].input[0]).toBe(graph.node[i - 1].output[0]);
    expect(graph.node[0].input[0]).toBe('input');
    expect(softmax.output).toEqual(['output']);
    // Dynamic batch N; float32.
    expect(graph.input.map((i: Decoded) => i.name)).toEqual(['input']);
    expect(dims(graph.input[0])).toEqual(['N', 1, 28, 28]);
    expect(graph.output.map((o: Decoded) => o.name)).toEqual(['output']);
    expect(dims(graph.output[0])).toEqual(['N', 10]);
    expect(graph.input[0].type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    // Initializers: every parameter, with its shape and its exact values.
    const weights = model.getWeights();
    expect(graph.initializer.map((t: Decoded) => t.name)).toEqual(weights.map((w) => w.name));
    for (const [i, t] of (graph.initializer as Decoded[]).entries()) {
      expect(t.dims).toEqual(weights[i].shape);
      expect(t.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
      const raw = t.rawData as Uint8Array;
      const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      expect(values).toEqual(weights[i].values);
    }
    const metadata = Object.fromEntries((decoded.metadataProps as Decoded[]).map((p) => [p.key, p.value]));
    expect(metadata.backprop_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(metadata.backprop_model).toBe('every-layer');
    expect(JSON.parse(metadata.class_names)).toHaveLength(10);
    expect(metadata.dataset).toBe('mnist');
    model.dispose();
  });

  it('the paper preset: Conv → Relu → MaxPool → Flatten → Gemm → Relu → Gemm → Sigmoid; toOnnxAsync gives the same bytes', async () => {
    const { model } = paperNetwork({ registry, seed: 1 });
    const bytes = toOnnx(model);
    expect(decode(bytes).graph.node.map((n: Decoded) => n.opType)).toEqual(['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Sigmoid']);
    expect(Buffer.from(await toOnnxAsync(model)).equals(Buffer.from(bytes))).toBe(true);
    model.dispose();
  });

  it('a model ending in a linear layer names that layer’s node output', () => {
    const model = new Sequential({ inputShape: [1, 4, 4], registry, layers: [new Flatten(), new Dense({ units: 3 })] });
    const graph = decode(toOnnx(model)).graph;
    expect(graph.node.map((n: Decoded) => n.opType)).toEqual(['Flatten', 'Gemm']);
    expect(graph.node[1].output).toEqual(['output']);
    model.dispose();
  });
});

class Dropoutish extends Layer {
  readonly className = 'Dropoutish';
  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }
  forward(x: Tensor): Tensor {
    return x;
  }
  backward(dy: Tensor): Tensor {
    return dy;
  }
  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}

describe('toOnnx refuses what it cannot export faithfully', () => {
  it('an unsupported layer, named', () => {
    const model = new Sequential({
      inputShape: [1, 8, 8],
      registry,
      layers: [new Conv2D({ filters: 2, kernelSize: 3 }), new Dropoutish(), new MaxPool2D(), new Flatten(), new Dense({ units: 2 })],
    });
    expect(() => toOnnx(model)).toThrow(BackpropError);
    expect(() => toOnnx(model)).toThrow(/layer 1 \(Dropoutish\).*has no ONNX export/);
    model.dispose();
  });

  it('non-finite weights, naming the tensor and the index', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const model = new Sequential({ inputShape: [1, 4, 4], registry, layers: [new Flatten(), new Dense({ units: 3 })] });
      // setWeights rejects non-finite values, so poison the parameter tensor directly (a diverged model).
      const kernel = model.params().find((p) => p.name.endsWith('/kernel'))!;
      const values = kernel.value.dataSync() as Float32Array;
      values[5] = bad;
      kernel.value.dispose();
      kernel.value = registry.keep(registry.makeTensor(values, [3, 16], 'float32'));
      expect(() => toOnnx(model)).toThrow(BackpropError);
      expect(() => toOnnx(model)).toThrow(new RegExp(`dense_1/kernel' holds ${bad} at index 5`));
      model.dispose();
    }
  });

  it('a disposed model, a non-model, bad options', () => {
    const { model } = paperNetwork({ registry, seed: 1 });
    expect(() => toOnnx(model, { opset: 9 } as never)).toThrow(/unknown option 'opset'/);
    expect(() => toOnnx(model, { metadata: { backprop_version: 'x' } })).toThrow(/written by the exporter/);
    expect(() => toOnnx(model, { classNames: [1] as never })).toThrow(/classNames/);
    model.dispose();
    expect(() => toOnnx(model)).toThrow(/disposed/);
    expect(() => toOnnx({} as never)).toThrow(/expects a Sequential model/);
  });
});

describe('toOnnx on a float64 model', () => {
  it('exports a float32 graph with the weights rounded, which ONNX Runtime runs', async () => {
    const ort = await import('onnxruntime-node');
    const model = new Sequential({
      inputShape: [1, 8, 8],
      registry,
      dtype: 'float64',
      seed: 2,
      layers: [new Conv2D({ filters: 2, kernelSize: 3, activation: 'tanh' }), new MaxPool2D(), new Flatten(), new Dense({ units: 3, activation: 'softmax' })],
    });
    const bytes = toOnnx(model);
    const graph = decode(bytes).graph;
    expect(graph.initializer.map((t: Decoded) => t.dataType)).toEqual([1, 1, 1, 1]);
    expect(graph.input[0].type.tensorType.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    const x = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i));
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const out = (await session.run({ input: new ort.Tensor('float32', x, [2, 1, 8, 8]) })).output.data as Float32Array;
    await session.release();
    const expected = model.predict({ values: Float64Array.from(x), shape: [2, 1, 8, 8] });
    const reference = expected.dataSync();
    expected.dispose();
    for (let i = 0; i < 6; i++) expect(Math.abs(out[i] - reference[i])).toBeLessThan(1e-6);
    model.dispose();
  });
});
