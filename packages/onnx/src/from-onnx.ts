import {
  AvgPool2D,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  L2Pool2D,
  type Layer,
  LeakyReLU,
  MaxPool2D,
  type NamedArray,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
} from '@backprop/layers';
import { BackpropError, type FloatDataType, type Registry } from '@backprop/tensor';
import { assembleModel } from './assemble.js';
import { samePadding } from './padding.js';
import { onnx } from './generated/onnx.js';

const WHERE = 'fromOnnx';

/** The operators `fromOnnx` reads (default domain). */
export const ONNX_IMPORT_OPS = [
  'Conv', 'Gemm', 'MatMul', 'Add', 'MaxPool', 'AveragePool', 'LpPool', 'Flatten', 'Reshape',
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'Dropout', 'BatchNormalization', 'Identity', 'Constant',
] as const;

/** The default-domain opsets `fromOnnx` reads. */
export const ONNX_IMPORT_MIN_OPSET = 7;
export const ONNX_IMPORT_MAX_OPSET = 23;

export interface FromOnnxOptions {
  /** The registry (backend) the model is built in; default: the default registry. */
  registry?: Registry;
  /** The model's parameter dtype; default float32 (the file's float32 weights are kept exactly). */
  dtype?: FloatDataType;
  /** The model's name; default: the `backprop_model` metadata entry, else the graph's name, else 'onnx'. */
  name?: string;
}

export interface OnnxImport {
  /** The model, with the file's weights. */
  model: Sequential;
  /** The metadata entry `class_names` (a JSON array of strings, as `toOnnx` writes it), when present. */
  classNames: string[] | undefined;
  /** Every metadata_props entry (string → string). */
  metadata: Record<string, string>;
}

type Activation = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax';

type Spec =
  | { kind: 'conv'; name: string | undefined; filters: number; kernelSize: [number, number]; strides: [number, number]; pads: [number, number]; kernel: Float32Array; bias: Float32Array | undefined; activation: Activation; alpha: number }
  | { kind: 'dense'; name: string | undefined; units: number; kernel: Float32Array; bias: Float32Array | undefined; activation: Activation; alpha: number; fromMatMul: boolean }
  | { kind: 'maxPool' | 'avgPool' | 'l2Pool'; poolSize: [number, number]; strides: [number, number] }
  | { kind: 'flatten' }
  | { kind: 'dropout'; rate: number }
  | { kind: 'batchNorm'; name: string | undefined; epsilon: number; momentum: number; gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array }
  | { kind: 'act'; activation: Exclude<Activation, 'linear'>; alpha: number };

interface Tensor32 {
  dims: number[];
  values: Float32Array;
}

const AUTO_PADS = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'] as const;
type AutoPad = (typeof AUTO_PADS)[number];

type INode = onnx.INodeProto;
type IAttr = onnx.IAttributeProto;
type ITensor = onnx.ITensorProto;

const SUPPORTED = `supported operators are ${ONNX_IMPORT_OPS.join(', ')} in a single chain`;
const MAX_DIM = 1 << 24;

/**
 * Reads ONNX model bytes (a serialized `onnx.ModelProto`) back into a Backprop
 * `Sequential`: a single chain of Conv, Gemm (or MatMul + Add), MaxPool, AveragePool,
 * LpPool (p = 2), Flatten / Reshape to [N, −1], BatchNormalization (inference),
 * Relu, LeakyRelu, Sigmoid, Tanh, Softmax (last axis), Dropout (inference) and Identity
 * with float32 initializers, on an input of shape [N, C, H, W] or [N, D]. Padding is
 * explicit symmetric pads or auto_pad VALID / SAME_UPPER / SAME_LOWER where it comes out
 * symmetric. An activation right after a Conv or Gemm becomes that layer's activation. Anything else — corrupt bytes, another operator, an unsupported attribute,
 * a graph that is not one chain — is a BackpropError naming the node and its operator;
 * no partial model is ever returned.
 */
export function fromOnnx(bytes: Uint8Array, options: FromOnnxOptions = {}): OnnxImport {
  checkOptions(options);
  if (!(bytes instanceof Uint8Array)) throw new BackpropError(WHERE, `expects the model's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length === 0) throw new BackpropError(WHERE, 'the bytes are empty; not an ONNX model');
  let message: onnx.ModelProto;
  try {
    message = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new BackpropError(WHERE, `not an ONNX model: the protobuf does not decode (${(error as Error)?.message ?? String(error)})`);
  }
  const parsed = new GraphReader(message).read();
  const metadata = readMetadata(message);
  const classNames = readClassNames(metadata, parsed.outputShape);
  const name = options.name ?? metadata.backprop_model ?? (message.graph?.name || 'onnx');
  const model = buildModel(parsed, name, options);
  return { model, classNames, metadata };
}

function checkOptions(options: FromOnnxOptions): void {
  if (options === null || typeof options !== 'object') throw new BackpropError(WHERE, `options must be an object, got ${options === null ? 'null' : typeof options}`);
  const known = ['registry', 'dtype', 'name'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new BackpropError(WHERE, `unknown option '${key}' (expected one of ${known.join(', ')})`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new BackpropError(WHERE, 'name must be a non-empty string');
}

function readMetadata(message: onnx.ModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of message.metadataProps ?? []) {
    if (typeof entry.key === 'string' && entry.key !== '' && typeof entry.value === 'string') out[entry.key] = entry.value;
  }
  return out;
}

function readClassNames(metadata: Record<string, string>, outputShape: readonly number[]): string[] | undefined {
  const raw = metadata.class_names;
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BackpropError(WHERE, "the metadata entry 'class_names' is not JSON (expected an array of strings)");
  }
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) throw new BackpropError(WHERE, "the metadata entry 'class_names' must be a JSON array of strings");
  if (outputShape.length === 1 && value.length !== outputShape[0]) {
    throw new BackpropError(WHERE, `the metadata entry 'class_names' has ${value.length} names but the model has ${outputShape[0]} outputs`);
  }
  return value as string[];
}

/** An int64 as decoded (a number, or a Long when the `long` package is present) as a safe integer. */
function toInt(value: unknown, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (value !== null && typeof value === 'object' && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: number; high: number };
    n = high * 4294967296 + (low >>> 0);
  } else throw new BackpropError(WHERE, `${what} is not an integer`);
  if (!Number.isSafeInteger(n)) throw new BackpropError(WHERE, `${what} (${n}) is not a safe integer`);
  return n;
}

function describeNode(node: INode, index: number): string {
  return `node ${index}${node.name ? ` '${node.name}'` : ''} (${node.opType || '<no op_type>'})`;
}

class GraphReader {
  private readonly initializers = new Map<string, ITensor>();
  private readonly constants = new Map<string, ITensor>();
  private readonly graph: onnx.IGraphProto;
  private readonly opset: number;
  private readonly specs: Spec[] = [];
  private shape: number[] = [];
  private batch: number | undefined;
  /** The last spec the previous node produced (for folding activations and MatMul + Add). */
  private lastNodeSpec: Spec | undefined;

  constructor(private readonly message: onnx.ModelProto) {
    const ir = toInt(message.irVersion ?? 0, 'ir_version');
    if (ir < 3) throw new BackpropError(WHERE, `ir_version ${ir} is not supported (expected ≥ 3); is this an ONNX model?`);
    let opset: number | undefined;
    for (const o of message.opsetImport ?? []) {
      if (!o.domain || o.domain === 'ai.onnx') opset = toInt(o.version ?? 0, 'opset_import version');
    }
    if (opset === undefined) throw new BackpropError(WHERE, 'the model imports no default-domain (ai.onnx) opset');
    if (opset < ONNX_IMPORT_MIN_OPSET || opset > ONNX_IMPORT_MAX_OPSET) {
      throw new BackpropError(WHERE, `opset ${opset} is not supported (expected ${ONNX_IMPORT_MIN_OPSET}–${ONNX_IMPORT_MAX_OPSET})`);
    }
    this.opset = opset;
    if (!message.graph) throw new BackpropError(WHERE, 'the model has no graph');
    this.graph = message.graph;
  }

  read(): { specs: Spec[]; inputShape: number[]; outputShape: number[] } {
    const graph = this.graph;
    for (const t of graph.initializer ?? []) {
      if (!t.name) throw new BackpropError(WHERE, 'an initializer has no name');
      if (this.initializers.has(t.name)) throw new BackpropError(WHERE, `two initializers are named '${t.name}'`);
      this.initializers.set(t.name, t);
    }
    if ((graph.sparseInitializer ?? []).length > 0) throw new BackpropError(WHERE, 'sparse initializers are not supported');
    // Before IR 4 the initializers are listed among the inputs too.
    const inputs = (graph.input ?? []).filter((i) => !this.initializers.has(i.name ?? ''));
    if (inputs.length !== 1) throw new BackpropError(WHERE, `the graph must have exactly one input (not counting initializers), got ${inputs.length}`);
    const outputs = graph.output ?? [];
    if (outputs.length !== 1) throw new BackpropError(WHERE, `the graph must have exactly one output, got ${outputs.length}`);
    const input = inputs[0];
    const inputShape = this.readInputShape(input);
    this.shape = [...inputShape];

    let current = input.name as string;
    const nodes = graph.node ?? [];
    nodes.forEach((node, index) => {
      current = this.readNode(node, index, current);
    });
    const outputName = outputs[0].name ?? '';
    if (current !== outputName) {
      throw new BackpropError(WHERE, `the graph's output '${outputName}' is not the end of the node chain (which ends at '${current}'); ${SUPPORTED}`);
    }
    if (this.specs.length === 0) throw new BackpropError(WHERE, 'the graph has no layers');
    return { specs: this.specs, inputShape, outputShape: this.shape };
  }

  private readInputShape(input: onnx.IValueInfoProto): number[] {
    const name = input.name ?? '';
    const tensorType = input.type?.tensorType;
    if (!tensorType) throw new BackpropError(WHERE, `the graph's input '${name}' is not a tensor`);
    if (tensorType.elemType !== onnx.TensorProto.DataType.FLOAT) {
      throw new BackpropError(WHERE, `the graph's input '${name}' has element type ${elemTypeName(tensorType.elemType)}; only float32 is supported`);
    }
    const dims = tensorType.shape?.dim ?? [];
    if (dims.length !== 4 && dims.length !== 2) {
      throw new BackpropError(WHERE, `the graph's input '${name}' has ${tensorType.shape ? `rank ${dims.length}` : 'no shape'}; expected [N, C, H, W] or [N, D]`);
    }
    const sample: number[] = [];
    dims.forEach((d, i) => {
      const hasValue = d.dimValue !== undefined && d.dimValue !== null && (d.value === 'dimValue' || d.value === undefined);
      if (i === 0) {
        if (hasValue && d.value === 'dimValue') {
          const n = toInt(d.dimValue, `input dimension 0`);
          if (n < 1) throw new BackpropError(WHERE, `the graph's input '${name}' has batch dimension ${n}`);
          this.batch = n;
        }
        return;
      }
      if (d.value !== 'dimValue') throw new BackpropError(WHERE, `the graph's input '${name}' has a symbolic dimension ${i} ('${d.dimParam ?? ''}'); only the batch dimension may be dynamic`);
      const v = toInt(d.dimValue, `input dimension ${i}`);
      if (v < 1 || v > MAX_DIM) throw new BackpropError(WHERE, `the graph's input '${name}' has dimension ${i} = ${v}`);
      sample.push(v);
    });
    return sample;
  }

  private error(node: INode, index: number, detail: string): BackpropError {
    return new BackpropError(`${WHERE}: ${describeNode(node, index)}`, detail);
  }

  private readNode(node: INode, index: number, current: string): string {
    const op = node.opType ?? '';
    if (node.domain && node.domain !== 'ai.onnx') throw this.error(node, index, `is in domain '${node.domain}'; ${SUPPORTED} (default domain)`);
    const inputs = node.input ?? [];
    const outputs = (node.output ?? []).filter((o, i) => i === 0 || o !== '');
    if (op === 'Constant') {
      if (outputs.length !== 1 || !outputs[0]) throw this.error(node, index, 'must have one output');
      const value = (node.attribute ?? []).find((a) => a.name === 'value');
      if (!value || !value.t || (node.attribute ?? []).length !== 1) throw this.error(node, index, "only a Constant with a 'value' tensor is supported");
      if (this.constants.has(outputs[0]) || this.initializers.has(outputs[0])) throw this.error(node, index, `redefines '${outputs[0]}'`);
      this.constants.set(outputs[0], value.t);
      return current;
    }
    if (!(ONNX_IMPORT_OPS as readonly string[]).includes(op)) throw this.error(node, index, `is not supported: ${SUPPORTED}`);
    if (inputs[0] !== current) {
      throw this.error(node, index, `does not take the previous node's output '${current}' as its first input (it takes '${inputs[0] ?? ''}'): the graph is not a single chain; ${SUPPORTED}`);
    }
    const maxOutputs = op === 'Dropout' ? 2 : 1;
    if (outputs.length < 1 || !outputs[0] || outputs.length > maxOutputs) throw this.error(node, index, `has ${outputs.length} outputs; expected 1`);
    const out = outputs[0];
    if (this.initializers.has(out) || this.constants.has(out)) throw this.error(node, index, `its output '${out}' is also an initializer`);
    const before = this.specs.length;
    const previous = this.lastNodeSpec;
    this.lastNodeSpec = undefined;
    const attrs = this.attributes(node, index);
    switch (op) {
      case 'Conv': this.conv(node, index, attrs); break;
      case 'Gemm': this.gemm(node, index, attrs); break;
      case 'MatMul': this.matMul(node, index, attrs); break;
      case 'Add': this.add(node, index, attrs, previous); return out;
      case 'MaxPool': case 'AveragePool': case 'LpPool': this.pool(node, index, attrs, op); break;
      case 'Flatten': this.flatten(node, index, attrs); break;
      case 'Reshape': this.reshape(node, index, attrs); break;
      case 'Relu': case 'Sigmoid': case 'Tanh': case 'LeakyRelu': case 'Softmax': this.activation(node, index, attrs, op, previous); break;
      case 'Dropout': this.dropout(node, index, attrs); break;
      case 'BatchNormalization': this.batchNorm(node, index, attrs); break;
      case 'Identity':
        this.expectInputs(node, index, 1);
        this.allow(node, index, attrs, []);
        this.lastNodeSpec = previous;
        break;
    }
    if (this.specs.length > before) this.lastNodeSpec = this.specs[this.specs.length - 1];
    return out;
  }

  private attributes(node: INode, index: number): Map<string, IAttr> {
    const map = new Map<string, IAttr>();
    for (const a of node.attribute ?? []) {
      if (!a.name) throw this.error(node, index, 'has an attribute without a name');
      if (map.has(a.name)) throw this.error(node, index, `has two attributes named '${a.name}'`);
      if (a.refAttrName) throw this.error(node, index, `attribute '${a.name}' refers to a function attribute; not supported`);
      map.set(a.name, a);
    }
    return map;
  }

  private allow(node: INode, index: number, attrs: Map<string, IAttr>, known: string[]): void {
    for (const name of attrs.keys()) {
      if (!known.includes(name)) throw this.error(node, index, `attribute '${name}' is not supported${known.length ? ` (supported: ${known.join(', ')})` : ''}`);
    }
  }

  private expectInputs(node: INode, index: number, max: number, min = 1): void {
    const count = (node.input ?? []).length;
    if (count < min || count > max) throw this.error(node, index, `has ${count} inputs; expected ${min === max ? min : `${min}–${max}`}`);
  }

  private int(node: INode, index: number, attrs: Map<string, IAttr>, name: string, fallback: number): number {
    const a = attrs.get(name);
    if (!a) return fallback;
    if (a.type !== onnx.AttributeProto.AttributeType.INT) throw this.error(node, index, `attribute '${name}' must be an INT`);
    return toInt(a.i ?? 0, `${describeNode(node, index)} attribute '${name}'`);
  }

  private float(node: INode, index: number, attrs: Map<string, IAttr>, name: string, fallback: number): number {
    const a = attrs.get(name);
    if (!a) return fallback;
    if (a.type !== onnx.AttributeProto.AttributeType.FLOAT) throw this.error(node, index, `attribute '${name}' must be a FLOAT`);
    const f = a.f ?? 0;
    if (!Number.isFinite(f)) throw this.error(node, index, `attribute '${name}' is ${f}`);
    return f;
  }

  private ints(node: INode, index: number, attrs: Map<string, IAttr>, name: string, length: number): number[] | undefined {
    const a = attrs.get(name);
    if (!a) return undefined;
    if (a.type !== onnx.AttributeProto.AttributeType.INTS) throw this.error(node, index, `attribute '${name}' must be INTS`);
    const values = (a.ints ?? []).map((v, i) => toInt(v, `${describeNode(node, index)} attribute '${name}'[${i}]`));
    if (values.length !== length) throw this.error(node, index, `attribute '${name}' has ${values.length} values; expected ${length} (2-D only)`);
    return values;
  }

  /** The auto_pad attribute (NOTSET when absent); explicit non-zero pads beside a VALID or SAME one are refused. */
  private autoPad(node: INode, index: number, attrs: Map<string, IAttr>): AutoPad {
    const a = attrs.get('auto_pad');
    if (!a) return 'NOTSET';
    if (a.type !== onnx.AttributeProto.AttributeType.STRING) throw this.error(node, index, "attribute 'auto_pad' must be a STRING");
    const value = new TextDecoder().decode(a.s ?? new Uint8Array());
    if (!(AUTO_PADS as readonly string[]).includes(value)) throw this.error(node, index, `auto_pad '${value}' is not an ONNX auto_pad (expected ${AUTO_PADS.join(', ')})`);
    if (value !== 'NOTSET' && attrs.has('pads') && (this.ints(node, index, attrs, 'pads', 4) ?? []).some((p) => p !== 0)) {
      throw this.error(node, index, `has auto_pad ${value} and non-zero pads (ONNX allows pads only with auto_pad NOTSET)`);
    }
    return value as AutoPad;
  }

  /**
   * The symmetric [padH, padW] auto_pad SAME_UPPER / SAME_LOWER implies for this kernel and
   * stride on the current input (see samePadding); an odd total, which ONNX puts on one side
   * only, is refused naming the node, the axis and the side.
   */
  private samePads(node: INode, index: number, mode: 'SAME_UPPER' | 'SAME_LOWER', kernel: number[], strides: number[]): [number, number] {
    const where = `${WHERE}: ${describeNode(node, index)}`;
    const pads: [number, number] = [0, 0];
    for (let a = 0; a < 2; a++) {
      const size = this.shape[1 + a];
      const same = samePadding(where, size, kernel[a], strides[a]);
      if (same.symmetric === undefined) {
        const side = mode === 'SAME_UPPER' ? (a === 0 ? 'bottom' : 'right') : a === 0 ? 'top' : 'left';
        throw this.error(node, index, `auto_pad ${mode} needs ${same.total} zero(s) of ${a === 0 ? 'vertical' : 'horizontal'} padding for kernel ${kernel[a]}, stride ${strides[a]} on size ${size}; ONNX puts the odd one at the ${side}, which Backprop's symmetric padding cannot express (write explicit pads, or use an odd kernel with stride 1)`);
      }
      pads[a] = same.symmetric;
    }
    return pads;
  }

  /** A float32 initializer (or Constant) by name, checked; refuses other element types naming the tensor. */
  private weight(node: INode, index: number, name: string, rank: number[]): Tensor32 {
    const t = this.initializers.get(name) ?? this.constants.get(name);
    if (!t) throw this.error(node, index, `input '${name}' is not an initializer or a Constant: only the first input may come from the previous node`);
    const dims = (t.dims ?? []).map((d, i) => toInt(d, `tensor '${name}' dimension ${i}`));
    if (!rank.includes(dims.length)) throw this.error(node, index, `tensor '${name}' has shape [${dims.join(', ')}]; expected rank ${rank.join(' or ')}`);
    let count = 1;
    for (const d of dims) {
      if (d < 1 || d > MAX_DIM) throw this.error(node, index, `tensor '${name}' has shape [${dims.join(', ')}]`);
      count *= d;
      if (count > 2 ** 31) throw this.error(node, index, `tensor '${name}' is too large ([${dims.join(', ')}])`);
    }
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) {
      throw this.error(node, index, `tensor '${name}' has element type ${elemTypeName(t.dataType)}; only float32 weights are supported`);
    }
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0) {
      throw this.error(node, index, `tensor '${name}' keeps its data in an external file; not supported`);
    }
    if (t.segment) throw this.error(node, index, `tensor '${name}' is a segment; not supported`);
    const raw = t.rawData;
    const floats = t.floatData ?? [];
    let values: Float32Array;
    if (raw && raw.length > 0) {
      if (floats.length > 0) throw this.error(node, index, `tensor '${name}' has both raw_data and float_data`);
      if (raw.length !== count * 4) throw this.error(node, index, `tensor '${name}' has ${raw.length} bytes of raw_data; its shape [${dims.join(', ')}] needs ${count * 4}`);
      values = new Float32Array(count);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
    } else {
      if (floats.length !== count) throw this.error(node, index, `tensor '${name}' has ${floats.length} float_data values; its shape [${dims.join(', ')}] needs ${count}`);
      values = Float32Array.from(floats);
    }
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(values[i])) throw this.error(node, index, `tensor '${name}' holds ${values[i]} at index ${i}`);
    }
    return { dims, values };
  }

  /** An int64 tensor's values (Reshape's shape). */
  private int64s(node: INode, index: number, name: string): number[] {
    const t = this.initializers.get(name) ?? this.constants.get(name);
    if (!t) throw this.error(node, index, `shape input '${name}' is not an initializer or a Constant`);
    if (t.dataType !== onnx.TensorProto.DataType.INT64) throw this.error(node, index, `shape tensor '${name}' has element type ${elemTypeName(t.dataType)}; expected int64`);
    const dims = (t.dims ?? []).map((d, i) => toInt(d, `tensor '${name}' dimension ${i}`));
    if (dims.length !== 1 || dims[0] !== 2) throw this.error(node, index, `shape tensor '${name}' has shape [${dims.join(', ')}]; only a target of rank 2 ([N, -1]) is supported`);
    const raw = t.rawData;
    if (raw && raw.length > 0) {
      if (raw.length !== 16) throw this.error(node, index, `shape tensor '${name}' has ${raw.length} bytes of raw_data; expected 16`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return [0, 1].map((i) => {
        const v = view.getBigInt64(i * 8, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(-Number.MAX_SAFE_INTEGER)) throw this.error(node, index, `shape tensor '${name}' holds ${v}`);
        return Number(v);
      });
    }
    const data = (t.int64Data ?? []).map((v, i) => toInt(v, `tensor '${name}'[${i}]`));
    if (data.length !== 2) throw this.error(node, index, `shape tensor '${name}' has ${data.length} values; expected 2`);
    return data;
  }

  private layerName(tensorName: string, param: 'kernel' | 'bias'): string | undefined {
    const match = /^([^/]+)\/(kernel|bias)$/.exec(tensorName);
    return match && match[2] === param ? match[1] : undefined;
  }

  private conv(node: INode, index: number, attrs: Map<string, IAttr>): void {
    this.expectInputs(node, index, 3, 2);
    this.allow(node, index, attrs, ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']);
    if (this.shape.length !== 3) throw this.error(node, index, `needs a [N, C, H, W] input; its input is [N, ${this.shape.join(', ')}]`);
    const group = this.int(node, index, attrs, 'group', 1);
    if (group !== 1) throw this.error(node, index, `group ${group} is not supported (only 1)`);
    const dilations = this.ints(node, index, attrs, 'dilations', 2) ?? [1, 1];
    if (dilations.some((d) => d !== 1)) throw this.error(node, index, `dilations [${dilations.join(', ')}] are not supported (only 1)`);
    const autoPad = this.autoPad(node, index, attrs);
    const inputs = node.input ?? [];
    const w = this.weight(node, index, inputs[1], [4]);
    const [filters, channels, kh, kw] = w.dims;
    if (channels !== this.shape[0]) throw this.error(node, index, `kernel '${inputs[1]}' has ${channels} input channels; the input has ${this.shape[0]}`);
    const kernelShape = this.ints(node, index, attrs, 'kernel_shape', 2);
    if (kernelShape && (kernelShape[0] !== kh || kernelShape[1] !== kw)) throw this.error(node, index, `kernel_shape [${kernelShape.join(', ')}] disagrees with the kernel's [${kh}, ${kw}]`);
    const strides = this.ints(node, index, attrs, 'strides', 2) ?? [1, 1];
    if (strides.some((s) => s < 1 || s > MAX_DIM)) throw this.error(node, index, `strides [${strides.join(', ')}] must be positive`);
    let pads = this.ints(node, index, attrs, 'pads', 4) ?? [0, 0, 0, 0];
    if (pads.some((p) => p < 0 || p > MAX_DIM)) throw this.error(node, index, `pads [${pads.join(', ')}] must be non-negative`);
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw this.error(node, index, `asymmetric pads [${pads.join(', ')}] are not supported (Backprop pads both sides equally)`);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const [ph, pw] = this.samePads(node, index, autoPad, [kh, kw], strides);
      pads = [ph, pw, ph, pw];
    }
    let bias: Float32Array | undefined;
    if (inputs[2]) {
      const b = this.weight(node, index, inputs[2], [1]);
      if (b.dims[0] !== filters) throw this.error(node, index, `bias '${inputs[2]}' has ${b.dims[0]} values; expected ${filters}`);
      bias = b.values;
    }
    const [, h, wd] = this.shape;
    const oh = Math.floor((h + 2 * pads[0] - kh) / strides[0]) + 1;
    const ow = Math.floor((wd + 2 * pads[1] - kw) / strides[1]) + 1;
    if (oh < 1 || ow < 1) throw this.error(node, index, `its ${kh}×${kw} kernel does not fit its [${this.shape.join(', ')}] input`);
    const name = this.layerName(inputs[1], 'kernel');
    this.specs.push({
      kind: 'conv', name: name && (!inputs[2] || this.layerName(inputs[2], 'bias') === name) ? name : undefined,
      filters, kernelSize: [kh, kw], strides: [strides[0], strides[1]], pads: [pads[0], pads[1]], kernel: w.values, bias, activation: 'linear', alpha: 0,
    });
    this.shape = [filters, oh, ow];
  }

  private gemm(node: INode, index: number, attrs: Map<string, IAttr>): void {
    this.expectInputs(node, index, 3, 2);
    this.allow(node, index, attrs, ['alpha', 'beta', 'transA', 'transB', 'broadcast']);
    if (this.shape.length !== 1) throw this.error(node, index, `needs a [N, D] input; its input is [N, ${this.shape.join(', ')}] (add a Flatten before it)`);
    const alpha = this.float(node, index, attrs, 'alpha', 1);
    const beta = this.float(node, index, attrs, 'beta', 1);
    if (alpha !== 1 || beta !== 1) throw this.error(node, index, `alpha ${alpha} and beta ${beta} are not supported (only 1)`);
    if (this.int(node, index, attrs, 'transA', 0) !== 0) throw this.error(node, index, 'transA 1 is not supported');
    const transB = this.int(node, index, attrs, 'transB', 0);
    if (transB !== 0 && transB !== 1) throw this.error(node, index, `transB ${transB} must be 0 or 1`);
    const inputs = node.input ?? [];
    const w = this.weight(node, index, inputs[1], [2]);
    const [units, inSize] = transB === 1 ? w.dims : [w.dims[1], w.dims[0]];
    if (inSize !== this.shape[0]) throw this.error(node, index, `weight '${inputs[1]}' takes ${inSize} inputs; its input has ${this.shape[0]}`);
    const kernel = transB === 1 ? w.values : transpose(w.values, inSize, units);
    let bias: Float32Array | undefined;
    if (inputs[2]) bias = this.biasOf(node, index, inputs[2], units);
    const name = this.layerName(inputs[1], 'kernel');
    this.specs.push({
      kind: 'dense', name: name && (!inputs[2] || this.layerName(inputs[2], 'bias') === name) ? name : undefined,
      units, kernel, bias, activation: 'linear', alpha: 0, fromMatMul: false,
    });
    this.shape = [units];
  }

  private biasOf(node: INode, index: number, name: string, units: number): Float32Array {
    const b = this.weight(node, index, name, [1, 2]);
    const ok = b.dims.length === 1 ? b.dims[0] === units : b.dims[0] === 1 && b.dims[1] === units;
    if (!ok) throw this.error(node, index, `bias '${name}' has shape [${b.dims.join(', ')}]; expected [${units}] or [1, ${units}]`);
    return b.values;
  }

  private matMul(node: INode, index: number, attrs: Map<string, IAttr>): void {
    this.expectInputs(node, index, 2, 2);
    this.allow(node, index, attrs, []);
    if (this.shape.length !== 1) throw this.error(node, index, `needs a [N, D] input; its input is [N, ${this.shape.join(', ')}] (add a Flatten before it)`);
    const inputs = node.input ?? [];
    const w = this.weight(node, index, inputs[1], [2]);
    const [inSize, units] = w.dims;
    if (inSize !== this.shape[0]) throw this.error(node, index, `weight '${inputs[1]}' has ${inSize} rows; its input has ${this.shape[0]} columns`);
    this.specs.push({ kind: 'dense', name: undefined, units, kernel: transpose(w.values, inSize, units), bias: undefined, activation: 'linear', alpha: 0, fromMatMul: true });
    this.shape = [units];
  }

  private add(node: INode, index: number, attrs: Map<string, IAttr>, previous: Spec | undefined): void {
    this.expectInputs(node, index, 2, 2);
    this.allow(node, index, attrs, ['broadcast', 'axis']);
    if (!previous || previous.kind !== 'dense' || !previous.fromMatMul || previous.bias) {
      throw this.error(node, index, 'an Add is supported only as the bias right after a MatMul');
    }
    previous.bias = this.biasOf(node, index, (node.input ?? [])[1], previous.units);
    this.lastNodeSpec = previous;
  }

  private pool(node: INode, index: number, attrs: Map<string, IAttr>, op: 'MaxPool' | 'AveragePool' | 'LpPool'): void {
    this.expectInputs(node, index, 1);
    const known = ['kernel_shape', 'strides', 'pads', 'auto_pad'];
    if (op === 'MaxPool') known.push('ceil_mode', 'dilations', 'storage_order');
    if (op === 'AveragePool') known.push('ceil_mode', 'count_include_pad');
    if (op === 'LpPool') known.push('p');
    this.allow(node, index, attrs, known);
    if (this.shape.length !== 3) throw this.error(node, index, `needs a [N, C, H, W] input; its input is [N, ${this.shape.join(', ')}]`);
    const autoPad = this.autoPad(node, index, attrs);
    const kernel = this.ints(node, index, attrs, 'kernel_shape', 2);
    if (!kernel) throw this.error(node, index, "has no 'kernel_shape'");
    if (kernel.some((k) => k < 1 || k > MAX_DIM)) throw this.error(node, index, `kernel_shape [${kernel.join(', ')}] must be positive`);
    const strides = this.ints(node, index, attrs, 'strides', 2) ?? [1, 1];
    if (strides.some((s) => s < 1 || s > MAX_DIM)) throw this.error(node, index, `strides [${strides.join(', ')}] must be positive`);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const [ph, pw] = this.samePads(node, index, autoPad, kernel, strides);
      if (ph !== 0 || pw !== 0) {
        throw this.error(node, index, `auto_pad ${autoPad} pads this [${this.shape.join(', ')}] input by ${ph}×${pw} on each side (window ${kernel.join('×')}, strides ${strides.join('×')}); Backprop pools never pad, so only a SAME that needs no padding is supported`);
      }
    }
    const pads = this.ints(node, index, attrs, 'pads', 4) ?? [0, 0, 0, 0];
    if (pads.some((p) => p !== 0)) throw this.error(node, index, `pads [${pads.join(', ')}] are not supported (Backprop pools never pad)`);
    if (this.int(node, index, attrs, 'ceil_mode', 0) !== 0) throw this.error(node, index, 'ceil_mode 1 is not supported (Backprop pools round down)');
    const dilations = this.ints(node, index, attrs, 'dilations', 2) ?? [1, 1];
    if (dilations.some((d) => d !== 1)) throw this.error(node, index, `dilations [${dilations.join(', ')}] are not supported (only 1)`);
    if (op === 'LpPool') {
      const p = this.int(node, index, attrs, 'p', 2);
      if (p !== 2) throw this.error(node, index, `p ${p} is not supported (only 2: Backprop's L2Pool2D)`);
    }
    const [c, h, w] = this.shape;
    const oh = Math.floor((h - kernel[0]) / strides[0]) + 1;
    const ow = Math.floor((w - kernel[1]) / strides[1]) + 1;
    if (h < kernel[0] || w < kernel[1]) throw this.error(node, index, `its ${kernel[0]}×${kernel[1]} window does not fit its [${this.shape.join(', ')}] input`);
    const kind = op === 'MaxPool' ? 'maxPool' : op === 'AveragePool' ? 'avgPool' : 'l2Pool';
    this.specs.push({ kind, poolSize: [kernel[0], kernel[1]], strides: [strides[0], strides[1]] });
    this.shape = [c, oh, ow];
  }

  private flatten(node: INode, index: number, attrs: Map<string, IAttr>): void {
    this.expectInputs(node, index, 1);
    this.allow(node, index, attrs, ['axis']);
    const axis = this.int(node, index, attrs, 'axis', 1);
    if (axis !== 1) throw this.error(node, index, `axis ${axis} is not supported (only 1: [N, C, H, W] → [N, C·H·W])`);
    this.pushFlatten();
  }

  private pushFlatten(): void {
    this.specs.push({ kind: 'flatten' });
    this.shape = [this.shape.reduce((a, b) => a * b, 1)];
  }

  private reshape(node: INode, index: number, attrs: Map<string, IAttr>): void {
    this.allow(node, index, attrs, ['allowzero']);
    if (this.opset < 5) throw this.error(node, index, 'Reshape before opset 5 is not supported');
    this.expectInputs(node, index, 2, 2);
    const allowZero = this.int(node, index, attrs, 'allowzero', 0);
    const target = this.int64s(node, index, (node.input ?? [])[1]);
    const size = this.shape.reduce((a, b) => a * b, 1);
    const [n, d] = target;
    const batchOk = (n === 0 && allowZero === 0) || n === -1 || (this.batch !== undefined && n === this.batch);
    const featuresOk = d === -1 ? n !== -1 : d === size;
    if (!batchOk || !featuresOk) {
      throw this.error(node, index, `target shape [${target.join(', ')}] is not supported: only [0, -1], [N, -1], [-1, ${size}] or [0, ${size}] (a flatten to [N, ${size}])`);
    }
    this.pushFlatten();
  }

  /**
   * Dropout: the identity at inference; it becomes a Backprop Dropout with the same rate, so
   * training the imported model drops what the original did. The ratio is an attribute before
   * opset 12 and an input (a scalar initializer or Constant) since; training_mode must be false.
   */
  private dropout(node: INode, index: number, attrs: Map<string, IAttr>): void {
    const inputs = node.input ?? [];
    let rate = 0.5;
    if (this.opset < 12) {
      this.expectInputs(node, index, 1);
      this.allow(node, index, attrs, ['ratio']);
      rate = this.float(node, index, attrs, 'ratio', 0.5);
    } else {
      this.expectInputs(node, index, 3);
      this.allow(node, index, attrs, ['seed']);
      if (inputs[1]) {
        const ratio = this.weight(node, index, inputs[1], [0, 1]);
        if (ratio.values.length !== 1) throw this.error(node, index, `ratio '${inputs[1]}' must be one value, got ${ratio.values.length}`);
        rate = ratio.values[0];
      }
      if (inputs[2] && this.bool(node, index, inputs[2])) throw this.error(node, index, `training_mode '${inputs[2]}' is true; only inference-mode Dropout is supported`);
    }
    rate = shortestFloat32(rate);
    if (!(rate >= 0 && rate < 1)) throw this.error(node, index, `ratio ${rate} must be in [0, 1)`);
    this.specs.push({ kind: 'dropout', rate });
  }

  /** A scalar bool tensor (an initializer or Constant), e.g. Dropout's training_mode. */
  private bool(node: INode, index: number, name: string): boolean {
    const t = this.initializers.get(name) ?? this.constants.get(name);
    if (!t) throw this.error(node, index, `input '${name}' is not an initializer or a Constant`);
    if (t.dataType !== onnx.TensorProto.DataType.BOOL) throw this.error(node, index, `tensor '${name}' has element type ${elemTypeName(t.dataType)}; expected BOOL`);
    const values = t.rawData && t.rawData.length > 0 ? Array.from(t.rawData) : (t.int32Data ?? []);
    if (values.length !== 1) throw this.error(node, index, `tensor '${name}' must hold one value, got ${values.length}`);
    return values[0] !== 0;
  }

  /**
   * BatchNormalization in inference mode over axis 1: y = scale·(x − mean)/√(var + ε) + B, a
   * Backprop BatchNormalization whose γ, β and moving statistics are the file's tensors.
   */
  private batchNorm(node: INode, index: number, attrs: Map<string, IAttr>): void {
    this.expectInputs(node, index, 5, 5);
    this.allow(node, index, attrs, ['epsilon', 'momentum', 'spatial', 'training_mode']);
    if (this.shape.length !== 3 && this.shape.length !== 1) throw this.error(node, index, `needs a [N, C, H, W] or [N, C] input; its input is [N, ${this.shape.join(', ')}]`);
    if (this.int(node, index, attrs, 'spatial', 1) !== 1) throw this.error(node, index, 'spatial 0 (statistics per value, not per channel) is not supported');
    if (this.int(node, index, attrs, 'training_mode', 0) !== 0) throw this.error(node, index, 'training_mode 1 is not supported (only inference)');
    const epsilon = shortestFloat32(this.float(node, index, attrs, 'epsilon', 1e-5));
    if (!(epsilon > 0)) throw this.error(node, index, `epsilon ${epsilon} must be > 0 (Backprop's BatchNormalization divides by √(var + ε))`);
    const momentum = shortestFloat32(this.float(node, index, attrs, 'momentum', 0.9));
    if (!(momentum >= 0 && momentum <= 1)) throw this.error(node, index, `momentum ${momentum} must be in [0, 1]`);
    const channels = this.shape[0];
    const inputs = node.input ?? [];
    const [gamma, beta, mean, variance] = ['scale', 'B', 'mean', 'var'].map((what, i) => {
      const t = this.weight(node, index, inputs[i + 1], [1]);
      if (t.dims[0] !== channels) throw this.error(node, index, `${what} '${inputs[i + 1]}' has ${t.dims[0]} values; the input has ${channels} channels`);
      return t.values;
    });
    const negative = variance.findIndex((v) => v < 0);
    if (negative >= 0) throw this.error(node, index, `var '${inputs[4]}' holds ${variance[negative]} at index ${negative}; a variance is never negative`);
    const match = /^([^/]+)\/gamma$/.exec(inputs[1] ?? '');
    this.specs.push({ kind: 'batchNorm', name: match ? match[1] : undefined, epsilon, momentum, gamma, beta, mean, variance });
  }

  private activation(node: INode, index: number, attrs: Map<string, IAttr>, op: 'Relu' | 'Sigmoid' | 'Tanh' | 'LeakyRelu' | 'Softmax', previous: Spec | undefined): void {
    this.expectInputs(node, index, 1);
    let alpha = 0;
    let activation: Exclude<Activation, 'linear'>;
    if (op === 'LeakyRelu') {
      this.allow(node, index, attrs, ['alpha']);
      alpha = shortestFloat32(this.float(node, index, attrs, 'alpha', 0.01));
      activation = 'leakyRelu';
    } else if (op === 'Softmax') {
      this.allow(node, index, attrs, ['axis']);
      if (this.shape.length !== 1) throw this.error(node, index, `is supported only on a [N, classes] input; its input is [N, ${this.shape.join(', ')}]`);
      const axis = this.int(node, index, attrs, 'axis', this.opset >= 13 ? -1 : 1);
      if (axis !== -1 && axis !== 1) throw this.error(node, index, `axis ${axis} is not supported (only the last axis)`);
      activation = 'softmax';
    } else {
      this.allow(node, index, attrs, []);
      activation = op === 'Relu' ? 'relu' : op === 'Sigmoid' ? 'sigmoid' : 'tanh';
    }
    // Fold into the Conv / Gemm just before (Conv2D has no softmax activation).
    if (previous && (previous.kind === 'conv' || previous.kind === 'dense') && previous.activation === 'linear' && !(previous.kind === 'conv' && activation === 'softmax')) {
      previous.activation = activation;
      previous.alpha = alpha;
      return;
    }
    this.specs.push({ kind: 'act', activation, alpha });
  }
}

/** (rows, cols) row-major → (cols, rows). */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** The shortest decimal that rounds to the same float32 (0.1 stored as float32 comes back as 0.1). */
function shortestFloat32(f: number): number {
  for (let p = 1; p <= 17; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === Math.fround(f)) return candidate;
  }
  return f;
}

function elemTypeName(type: number | null | undefined): string {
  const name = type === undefined || type === null ? undefined : onnx.TensorProto.DataType[type];
  return name ? `${name} (${type})` : String(type);
}

function buildModel(parsed: { specs: Spec[]; inputShape: number[] }, name: string, options: FromOnnxOptions): Sequential {
  const used = new Set<string>();
  for (const s of parsed.specs) {
    if ((s.kind === 'conv' || s.kind === 'dense' || s.kind === 'batchNorm') && s.name !== undefined) {
      if (used.has(s.name)) s.name = undefined;
      else used.add(s.name);
    }
  }
  const layers: Layer[] = [];
  const weights: NamedArray[] = [];
  const unique = (base: string): string => {
    let candidate = base;
    for (let i = 1; used.has(candidate); i++) candidate = `${base}_${i}`;
    used.add(candidate);
    return candidate;
  };
  parsed.specs.forEach((s, i) => {
    switch (s.kind) {
      case 'conv': {
        const layerName = s.name ?? unique(`conv2d_${i}`);
        layers.push(new Conv2D({
          name: layerName, filters: s.filters, kernelSize: s.kernelSize, strides: s.strides, padding: s.pads,
          activation: s.activation as Exclude<Activation, 'softmax'>, ...(s.activation === 'leakyRelu' ? { alpha: s.alpha } : {}), useBias: s.bias !== undefined,
        }));
        weights.push({ name: `${layerName}/kernel`, shape: [s.filters, s.kernel.length / (s.filters * s.kernelSize[0] * s.kernelSize[1]), ...s.kernelSize], values: s.kernel });
        if (s.bias) weights.push({ name: `${layerName}/bias`, shape: [s.filters], values: s.bias });
        break;
      }
      case 'dense': {
        const layerName = s.name ?? unique(`dense_${i}`);
        layers.push(new Dense({ name: layerName, units: s.units, activation: s.activation, ...(s.activation === 'leakyRelu' ? { alpha: s.alpha } : {}), useBias: s.bias !== undefined }));
        weights.push({ name: `${layerName}/kernel`, shape: [s.units, s.kernel.length / s.units], values: s.kernel });
        if (s.bias) weights.push({ name: `${layerName}/bias`, shape: [s.units], values: s.bias });
        break;
      }
      case 'maxPool': layers.push(new MaxPool2D({ name: unique(`max_pool2d_${i}`), poolSize: s.poolSize, strides: s.strides })); break;
      case 'avgPool': layers.push(new AvgPool2D({ name: unique(`avg_pool2d_${i}`), poolSize: s.poolSize, strides: s.strides })); break;
      case 'l2Pool': layers.push(new L2Pool2D({ name: unique(`l2_pool2d_${i}`), poolSize: s.poolSize, strides: s.strides })); break;
      case 'flatten': layers.push(new Flatten({ name: unique(`flatten_${i}`) })); break;
      case 'dropout': layers.push(new Dropout({ name: unique(`dropout_${i}`), rate: s.rate })); break;
      case 'batchNorm': {
        const layerName = s.name ?? unique(`batch_normalization_${i}`);
        layers.push(new BatchNormalization({ name: layerName, epsilon: s.epsilon, momentum: s.momentum }));
        const shape = [s.gamma.length];
        weights.push(
          { name: `${layerName}/gamma`, shape, values: s.gamma },
          { name: `${layerName}/beta`, shape, values: s.beta },
          { name: `${layerName}/movingMean`, shape, values: s.mean },
          { name: `${layerName}/movingVariance`, shape, values: s.variance },
        );
        break;
      }
      case 'act': {
        const n = unique(`${s.activation.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}_${i}`);
        if (s.activation === 'relu') layers.push(new ReLU({ name: n }));
        else if (s.activation === 'leakyRelu') layers.push(new LeakyReLU({ name: n, alpha: s.alpha }));
        else if (s.activation === 'sigmoid') layers.push(new Sigmoid({ name: n }));
        else if (s.activation === 'tanh') layers.push(new Tanh({ name: n }));
        else layers.push(new Softmax({ name: n }));
        break;
      }
    }
  });
  return assembleModel(WHERE, 'graph', { name, inputShape: parsed.inputShape, layers, registry: options.registry, dtype: options.dtype }, weights);
}
