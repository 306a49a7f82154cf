import { BackpropError } from '@backprop/tensor';
import type { AvgPool2D, BatchNormalization, Conv2D, Dense, Dropout, L2Pool2D, Layer, LeakyReLU, MaxPool2D, NamedArray, Sequential } from '@backprop/layers';
import { onnx } from './generated/onnx.js';
// Only the version is bundled (a named import of JSON keeps the rest of package.json out of dist).
import { version as ONNX_PACKAGE_VERSION } from '../package.json';

/** The operator set the exported graphs import (default domain): ONNX 1.8, ONNX Runtime ≥ 1.6. */
export const ONNX_OPSET = 13;
/** The IR version written into the model: 7 is the IR of opset 13, which every ONNX Runtime 1.x since 1.6 reads. */
export const ONNX_IR_VERSION = 7;
/** The graph's input and output names. */
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'output';
/** The symbolic name of the dynamic batch dimension. */
export const ONNX_BATCH_DIM = 'N';

export interface ToOnnxOptions {
  /** The graph's name; default: the model's name. */
  graphName?: string;
  /** Class names, one per output, stored in the metadata as `class_names` (a JSON array). */
  classNames?: readonly string[];
  /** Extra metadata_props (string → string); the keys written by the exporter cannot be overridden. */
  metadata?: Readonly<Record<string, string>>;
  /** The model's doc_string. */
  docString?: string;
}

const WHERE = 'toOnnx';

/** The layers `toOnnx` exports (the augmentation layers, the identity at inference, emit no node). */
export const ONNX_EXPORT_LAYERS = [
  'Conv2D', 'MaxPool2D', 'AvgPool2D', 'L2Pool2D', 'Flatten', 'Dense', 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'Softmax',
  'Dropout', 'BatchNormalization', 'RandomFlip', 'RandomTranslation', 'RandomRotation', 'RandomZoom',
] as const;

/**
 * The model as ONNX model bytes (a serialized `onnx.ModelProto`): opset 13, input
 * `input` of shape [N, …inputShape] with a dynamic batch N, output `output`, float32
 * (a float64 model's weights are rounded to float32: ONNX Runtime has no double Conv).
 * Every layer is exported (ONNX_EXPORT_LAYERS): BatchNormalization as an inference
 * BatchNormalization, Dropout as an inference Dropout carrying its ratio, and the
 * augmentation layers — the identity at inference — as no node at all.
 * Reads the weights synchronously (`model.getWeights()`); on a backend without
 * synchronous readback use `toOnnxAsync`. Throws a BackpropError naming the layer
 * for a layer or option ONNX export does not support, and naming the tensor for a
 * NaN or infinite weight.
 */
export function toOnnx(model: Sequential, options: ToOnnxOptions = {}): Uint8Array {
  checkModel(model);
  checkOptions(options);
  return buildOnnx(model, model.getWeights(), options);
}

/** `toOnnx` reading the weights with `await data()`: works on every backend (WebGPU included). */
export async function toOnnxAsync(model: Sequential, options: ToOnnxOptions = {}): Promise<Uint8Array> {
  checkModel(model);
  checkOptions(options);
  return buildOnnx(model, await model.getWeightsAsync(), options);
}

function checkModel(model: Sequential): void {
  if (model === null || typeof model !== 'object' || !Array.isArray((model as Partial<Sequential>).layers) || typeof model.getWeights !== 'function') {
    throw new BackpropError(WHERE, `expects a Sequential model, got ${model === null ? 'null' : typeof model}`);
  }
  if (model.isDisposed) throw new BackpropError(WHERE, 'the model is disposed; it has no weights to export');
}

function checkOptions(options: ToOnnxOptions): void {
  if (options === null || typeof options !== 'object') throw new BackpropError(WHERE, `options must be an object, got ${options === null ? 'null' : typeof options}`);
  const known = ['graphName', 'classNames', 'metadata', 'docString'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new BackpropError(WHERE, `unknown option '${key}' (expected one of ${known.join(', ')})`);
  }
  if (options.graphName !== undefined && (typeof options.graphName !== 'string' || options.graphName === '')) {
    throw new BackpropError(WHERE, 'graphName must be a non-empty string');
  }
  if (options.docString !== undefined && typeof options.docString !== 'string') throw new BackpropError(WHERE, 'docString must be a string');
  if (options.classNames !== undefined && (!Array.isArray(options.classNames) || options.classNames.some((c) => typeof c !== 'string'))) {
    throw new BackpropError(WHERE, 'classNames must be an array of strings');
  }
  if (options.metadata !== undefined) {
    if (options.metadata === null || typeof options.metadata !== 'object' || Array.isArray(options.metadata)) {
      throw new BackpropError(WHERE, 'metadata must be an object of strings');
    }
    for (const [key, value] of Object.entries(options.metadata)) {
      if (typeof value !== 'string') throw new BackpropError(WHERE, `metadata '${key}' must be a string, got ${typeof value}`);
      if (RESERVED_METADATA.includes(key)) throw new BackpropError(WHERE, `metadata '${key}' is written by the exporter; choose another key`);
    }
  }
}

const RESERVED_METADATA = ['backprop_version', 'backprop_model', 'class_names'];

type ActivationName = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax';

/** Builds the graph node by node; each layer appends its nodes and returns its output's name. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly weights: Map<string, NamedArray>;

  constructor(
    weights: readonly NamedArray[],
    private readonly elemType: number,
  ) {
    this.weights = new Map(weights.map((w) => [w.name, w]));
  }

  node(opType: string, inputs: string[], output: string, name: string, attribute: onnx.IAttributeProto[] = []): string {
    this.nodes.push({ opType, input: inputs, output: [output], name, attribute });
    return output;
  }

  /** The parameter `<layer>/<param>` as an initializer of the same name (checked finite). */
  initializer(layer: Layer, param: string): string {
    const name = `${layer.name}/${param}`;
    const weight = this.weights.get(name);
    if (!weight) throw new BackpropError(layer.label || WHERE, `has no weight '${name}' to export`);
    const { values, shape } = weight;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new BackpropError(layer.label || WHERE, `weight '${name}' holds ${values[i]} at index ${i}; a model with non-finite weights cannot be exported`);
      }
      if (!Number.isFinite(Math.fround(values[i]))) {
        throw new BackpropError(layer.label || WHERE, `weight '${name}' holds ${values[i]} at index ${i}, beyond float32's range; it cannot be exported as float32`);
      }
    }
    this.initializers.push({ name, dims: [...shape], dataType: this.elemType, rawData: littleEndianBytes(values, this.elemType) });
    return name;
  }

  /** A constant the graph needs beside the layer's weights (a Dropout's ratio, a BatchNormalization's γ = 1 when it learns none). */
  constant(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push({ name, dims, dataType: this.elemType, rawData: littleEndianBytes(values, this.elemType) });
    return name;
  }

  /** The shape of the layer's weight `param`, read from the weights being exported. */
  shapeOf(layer: Layer, param: string): readonly number[] {
    const weight = this.weights.get(`${layer.name}/${param}`);
    if (!weight) throw new BackpropError(layer.label || WHERE, `has no weight '${layer.name}/${param}' to export`);
    return weight.shape;
  }

  /** Appends the activation node (none for 'linear'). */
  activation(layer: Layer, activation: ActivationName, alpha: number, input: string, output: string): string {
    const name = `${layer.name}/${activation}`;
    switch (activation) {
      case 'linear': return input;
      case 'relu': return this.node('Relu', [input], output, name);
      case 'leakyRelu': return this.node('LeakyRelu', [input], output, name, [floatAttr('alpha', alpha)]);
      case 'sigmoid': return this.node('Sigmoid', [input], output, name);
      case 'tanh': return this.node('Tanh', [input], output, name);
      case 'softmax': return this.node('Softmax', [input], output, name, [intAttr('axis', -1)]);
      default: throw new BackpropError(layer.label || WHERE, `activation '${String(activation)}' has no ONNX export`);
    }
  }
}

function buildOnnx(model: Sequential, weights: readonly NamedArray[], options: ToOnnxOptions): Uint8Array {
  // Always float32: ONNX Runtime's CPU execution provider has no double Conv (nor pooling) kernel,
  // so a float64 model is exported with its weights rounded to float32.
  const elemType = onnx.TensorProto.DataType.FLOAT;
  const graph = new GraphBuilder(weights, elemType);
  let current = ONNX_INPUT_NAME;
  model.layers.forEach((layer, index) => {
    const last = index === model.layers.length - 1;
    current = exportLayer(graph, layer, current, last ? ONNX_OUTPUT_NAME : `${layer.name}/output`);
  });
  if (current !== ONNX_OUTPUT_NAME) {
    // A model whose last layer emits no node (a trailing linear layer never does: every layer emits ≥ 1): name the output.
    graph.node('Identity', [current], ONNX_OUTPUT_NAME, 'output/identity');
  }

  const metadataProps: onnx.IStringStringEntryProto[] = [
    { key: 'backprop_version', value: ONNX_PACKAGE_VERSION },
    { key: 'backprop_model', value: model.name },
  ];
  if (options.classNames) metadataProps.push({ key: 'class_names', value: JSON.stringify(options.classNames) });
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadataProps.push({ key, value });

  const message: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'backprop',
    producerVersion: ONNX_PACKAGE_VERSION,
    docString: options.docString ?? '',
    metadataProps,
    graph: {
      name: options.graphName ?? model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(ONNX_INPUT_NAME, elemType, model.inputShape)],
      output: [valueInfo(ONNX_OUTPUT_NAME, elemType, model.outputShape)],
    },
  };
  return onnx.ModelProto.encode(message).finish();
}

function exportLayer(graph: GraphBuilder, layer: Layer, input: string, output: string): string {
  const where = layer.label || `${layer.className} '${layer.name}'`;
  switch (layer.className) {
    case 'Conv2D': {
      const conv = layer as Conv2D;
      const [ph, pw] = conv.pad;
      const inputs = [input, graph.initializer(layer, 'kernel')];
      if (conv.useBias) inputs.push(graph.initializer(layer, 'bias'));
      const linear = conv.activation === 'linear';
      const z = graph.node('Conv', inputs, linear ? output : `${layer.name}/conv`, `${layer.name}/conv`, [
        intsAttr('kernel_shape', conv.kernelSize),
        intsAttr('strides', conv.strides),
        // ONNX order: [top, left, bottom, right]; Backprop pads symmetrically.
        intsAttr('pads', [ph, pw, ph, pw]),
        intsAttr('dilations', [1, 1]),
        intAttr('group', 1),
      ]);
      return graph.activation(layer, conv.activation, conv.alpha, z, output);
    }
    case 'Dense': {
      const dense = layer as Dense;
      const inputs = [input, graph.initializer(layer, 'kernel')];
      if (dense.useBias) inputs.push(graph.initializer(layer, 'bias'));
      const linear = dense.activation === 'linear';
      // Backprop stores W as (out, in): Y = X·Wᵀ + b is Gemm with transB = 1.
      const z = graph.node('Gemm', inputs, linear ? output : `${layer.name}/gemm`, `${layer.name}/gemm`, [
        floatAttr('alpha', 1),
        floatAttr('beta', 1),
        intAttr('transA', 0),
        intAttr('transB', 1),
      ]);
      return graph.activation(layer, dense.activation, dense.alpha, z, output);
    }
    case 'MaxPool2D':
    case 'AvgPool2D':
    case 'L2Pool2D': {
      const pool = layer as MaxPool2D | AvgPool2D | L2Pool2D;
      // Backprop pools never pad (floor output size, apps/docs/math/pooling.md): no pads, ceil_mode 0.
      const attrs = [intsAttr('kernel_shape', pool.poolSize), intsAttr('strides', pool.strides)];
      if (layer.className === 'MaxPool2D') return graph.node('MaxPool', [input], output, `${layer.name}/maxpool`, attrs);
      if (layer.className === 'AvgPool2D') return graph.node('AveragePool', [input], output, `${layer.name}/avgpool`, attrs);
      // Backprop's L2 pooling is the window's 2-norm √(Σ x²), not a mean: exactly ONNX LpPool with p = 2.
      return graph.node('LpPool', [input], output, `${layer.name}/lppool`, [...attrs, intAttr('p', 2)]);
    }
    case 'Dropout':
      // Inference is the identity. An ONNX Dropout without training_mode is too (ONNX Runtime drops it
      // from the graph); it is written, with its ratio, so fromOnnx gives the model back its Dropout.
      return graph.node('Dropout', [input, graph.constant(`${layer.name}/ratio`, [], Float32Array.of((layer as Dropout).rate))], output, `${layer.name}/dropout`);
    case 'BatchNormalization': {
      // Inference: y = γ (x − moving mean)/√(moving variance + ε) + β over axis 1 — ONNX BatchNormalization exactly.
      const bn = layer as BatchNormalization;
      const [channels] = graph.shapeOf(layer, 'movingMean');
      const scale = bn.scale ? graph.initializer(layer, 'gamma') : graph.constant(`${layer.name}/gamma`, [channels], new Float32Array(channels).fill(1));
      const shift = bn.center ? graph.initializer(layer, 'beta') : graph.constant(`${layer.name}/beta`, [channels], new Float32Array(channels));
      return graph.node(
        'BatchNormalization',
        [input, scale, shift, graph.initializer(layer, 'movingMean'), graph.initializer(layer, 'movingVariance')],
        output,
        `${layer.name}/batchnorm`,
        // momentum is used only when training (same convention as Backprop: moving ← momentum·moving + (1 − momentum)·batch).
        [floatAttr('epsilon', bn.epsilon), floatAttr('momentum', bn.momentum)],
      );
    }
    case 'RandomFlip':
    case 'RandomTranslation':
    case 'RandomRotation':
    case 'RandomZoom':
      // Augmentation layers are the identity at inference: no node.
      return input;
    case 'Flatten':
      // (N, C, H, W) → (N, C·H·W) in row-major (c, h, w) order, as Backprop's reshape.
      return graph.node('Flatten', [input], output, `${layer.name}/flatten`, [intAttr('axis', 1)]);
    case 'ReLU':
      return graph.activation(layer, 'relu', 0, input, output);
    case 'LeakyReLU':
      return graph.activation(layer, 'leakyRelu', (layer as LeakyReLU).alpha, input, output);
    case 'Sigmoid':
      return graph.activation(layer, 'sigmoid', 0, input, output);
    case 'Tanh':
      return graph.activation(layer, 'tanh', 0, input, output);
    case 'Softmax':
      return graph.activation(layer, 'softmax', 0, input, output);
    default:
      throw new BackpropError(
        where,
        `has no ONNX export: supported layers are ${ONNX_EXPORT_LAYERS.join(', ')}`,
      );
  }
}

function valueInfo(name: string, elemType: number, sampleShape: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: [{ dimParam: ONNX_BATCH_DIM }, ...sampleShape.map((d) => ({ dimValue: d }))] },
      },
    },
  };
}

/** The values as the little-endian bytes ONNX's raw_data holds, whatever the host's byte order. */
function littleEndianBytes(values: Float32Array | Float64Array, elemType: number): Uint8Array {
  const double = elemType === onnx.TensorProto.DataType.DOUBLE;
  const size = double ? 8 : 4;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (double) view.setFloat64(i * size, values[i], true);
    else view.setFloat32(i * size, values[i], true);
  }
  return bytes;
}

function intAttr(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function intsAttr(name: string, ints: readonly number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] };
}

function floatAttr(name: string, f: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
