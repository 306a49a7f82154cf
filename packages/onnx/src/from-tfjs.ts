import {
  AvgPool2D,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  type Layer,
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

const WHERE = 'fromTfjsLayers';

/** The TF.js / Keras layer classes `fromTfjsLayers` reads. */
export const TFJS_IMPORT_LAYERS = ['InputLayer', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'Dense', 'Dropout', 'BatchNormalization', 'Activation'] as const;
/** The activations `fromTfjsLayers` reads (on Activation, Conv2D and Dense). */
export const TFJS_IMPORT_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'] as const;

const SUPPORTED = `supported layers are ${TFJS_IMPORT_LAYERS.join(', ')} (data_format channels_last or channels_first, one per model) in a Sequential model`;

export interface FromTfjsLayersOptions {
  /** The registry (backend) the model is built in; default: the default registry. */
  registry?: Registry;
  /** The model's parameter dtype; default float32. */
  dtype?: FloatDataType;
  /** The model's name; default: the TF.js model's name, else 'tfjs'. */
  name?: string;
}

export interface TfjsLayersImport {
  /** The model, with the file's weights; it takes NCHW input ([N, C, H, W]). */
  model: Sequential;
  /** The model's input shape without the batch: [C, H, W] (or [D]). */
  inputShape: number[];
  /** The TF.js model's input shape without the batch: [H, W, C] for channels_last, [C, H, W] for channels_first (or [D]). */
  tfjsInputShape: number[];
}

/** One entry of a weights manifest group (`weightsManifest[i].weights[j]`). */
interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

type Act = (typeof TFJS_IMPORT_ACTIVATIONS)[number];
type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * Reads a TF.js Layers `Sequential` model — the `model.json` object (`modelTopology` and
 * `weightsManifest`, as `model.save('file://…')` writes it; `weightSpecs` in place of
 * `weightsManifest` is read too, as a save handler receives it) and its weight bytes (the
 * shards concatenated in manifest order) — into a Backprop `Sequential` taking NCHW input.
 * Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout, BatchNormalization and Activation
 * with channels_last or channels_first data (one data_format per model); conv kernels are
 * transposed from [kh, kw, C, F] to (F, C, kh, kw) and the first Dense after a Flatten that
 * flattens in (h, w, c) order has its inputs reordered to Backprop's (c, h, w).
 * Weights are float32, float16, or uint8/uint16-quantized. Anything else is a BackpropError
 * naming the layer and its class; no partial model is ever returned.
 */
export function fromTfjsLayers(
  modelJson: unknown,
  weightData: ArrayBuffer | Uint8Array | readonly (ArrayBuffer | Uint8Array)[],
  options: FromTfjsLayersOptions = {},
): TfjsLayersImport {
  checkOptions(options);
  let json = modelJson;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (error) {
      throw new BackpropError(WHERE, `model.json is not valid JSON (${(error as Error).message})`);
    }
  }
  if (!isObj(json)) throw new BackpropError(WHERE, `expects the model.json object, got ${describe(json)}`);
  const bytes = toBytes(weightData);
  const entries = readEntries(json);
  const weights = decodeWeights(entries, bytes);
  const { layerConfigs, modelName } = readTopology(json);
  const plan = planLayers(layerConfigs, weights);
  const name = options.name ?? (modelName || 'tfjs');
  const model = build(plan, name, options);
  return { model, inputShape: plan.inputShape.slice(), tfjsInputShape: plan.tfjsInputShape.slice() };
}

function checkOptions(options: FromTfjsLayersOptions): void {
  if (!isObj(options)) throw new BackpropError(WHERE, `options must be an object, got ${describe(options)}`);
  const known = ['registry', 'dtype', 'name'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new BackpropError(WHERE, `unknown option '${key}' (expected one of ${known.join(', ')})`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new BackpropError(WHERE, 'name must be a non-empty string');
}

function toBytes(data: unknown): Uint8Array {
  const one = (d: unknown): Uint8Array => {
    if (d instanceof Uint8Array) return d;
    if (d instanceof ArrayBuffer) return new Uint8Array(d);
    throw new BackpropError(WHERE, `expects the weight data as an ArrayBuffer or Uint8Array, got ${describe(d)}`);
  };
  if (!Array.isArray(data)) return one(data);
  const parts = data.map(one);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function readEntries(json: Obj): WeightEntry[] {
  let raw: unknown[];
  if (json.weightsManifest !== undefined) {
    if (!Array.isArray(json.weightsManifest)) throw new BackpropError(WHERE, 'weightsManifest must be an array of { paths, weights } groups');
    raw = [];
    json.weightsManifest.forEach((group, i) => {
      if (!isObj(group) || !Array.isArray(group.weights)) throw new BackpropError(WHERE, `weightsManifest[${i}] must be a { paths, weights } group`);
      raw.push(...group.weights);
    });
  } else if (Array.isArray(json.weightSpecs)) raw = json.weightSpecs;
  else throw new BackpropError(WHERE, 'model.json has no weightsManifest (nor weightSpecs)');
  return raw.map((e, i) => {
    if (!isObj(e) || typeof e.name !== 'string' || !Array.isArray(e.shape) || typeof e.dtype !== 'string') {
      throw new BackpropError(WHERE, `weight entry ${i} must be { name, shape, dtype }`);
    }
    if (!e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw new BackpropError(WHERE, `weight '${e.name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    if (e.quantization !== undefined && !isObj(e.quantization)) throw new BackpropError(WHERE, `weight '${e.name}' has an invalid quantization`);
    return e as unknown as WeightEntry;
  });
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decodes every float32 weight (dequantizing uint8/uint16/float16) by name; other dtypes are skipped over. */
function decodeWeights(entries: WeightEntry[], bytes: Uint8Array): Map<string, { entry: WeightEntry; values: Float32Array; used: boolean }> {
  const out = new Map<string, { entry: WeightEntry; values: Float32Array; used: boolean }>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (const e of entries) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    const q = e.quantization;
    const stored = q ? q.dtype : e.dtype;
    const per = BYTES[stored];
    if (per === undefined) throw new BackpropError(WHERE, `weight '${e.name}' has ${q ? 'quantization ' : ''}dtype '${stored}'; supported are float32, and uint8, uint16, float16 quantization`);
    const length = size * per;
    if (at + length > bytes.length) throw new BackpropError(WHERE, `the weight data is ${bytes.length} bytes, too short for weight '${e.name}' (needs bytes ${at}–${at + length})`);
    if (e.dtype === 'float32') {
      if (out.has(e.name)) throw new BackpropError(WHERE, `two weights are named '${e.name}'`);
      const values = new Float32Array(size);
      if (!q) {
        for (let i = 0; i < size; i++) values[i] = view.getFloat32(at + 4 * i, true);
      } else if (q.dtype === 'float16') {
        for (let i = 0; i < size; i++) values[i] = halfToFloat(view.getUint16(at + 2 * i, true));
      } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        const { scale, min } = q;
        if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
          throw new BackpropError(WHERE, `weight '${e.name}' is ${q.dtype}-quantized without a finite scale and min`);
        }
        for (let i = 0; i < size; i++) values[i] = (q.dtype === 'uint8' ? view.getUint8(at + i) : view.getUint16(at + 2 * i, true)) * scale + min;
      } else throw new BackpropError(WHERE, `weight '${e.name}' has quantization dtype '${q.dtype}'; supported are uint8, uint16, float16`);
      for (let i = 0; i < size; i++) {
        if (!Number.isFinite(values[i])) throw new BackpropError(WHERE, `weight '${e.name}' holds a non-finite value (${values[i]}) at index ${i}`);
      }
      out.set(e.name, { entry: e, values, used: false });
    }
    at += length;
  }
  if (at !== bytes.length) throw new BackpropError(WHERE, `the weight data is ${bytes.length} bytes but the manifest describes ${at}`);
  return out;
}

function readTopology(json: Obj): { layerConfigs: Obj[]; modelName: string | undefined } {
  let topo = json.modelTopology;
  if (!isObj(topo)) throw new BackpropError(WHERE, 'model.json has no modelTopology object; is this a TF.js Layers model (not a graph model)?');
  if (isObj(topo.model_config)) topo = topo.model_config;
  const t = topo as Obj;
  if (t.class_name !== 'Sequential') {
    throw new BackpropError(WHERE, `the model is a ${JSON.stringify(t.class_name)}; only a Sequential model is supported (${SUPPORTED})`);
  }
  const config = t.config;
  const layers = Array.isArray(config) ? config : isObj(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0) throw new BackpropError(WHERE, 'the Sequential model has no layers');
  layers.forEach((l, i) => {
    if (!isObj(l) || typeof l.class_name !== 'string' || !isObj(l.config)) throw new BackpropError(WHERE, `layer ${i} must be { class_name, config }`);
  });
  const modelName = isObj(config) && typeof config.name === 'string' ? config.name : undefined;
  return { layerConfigs: layers as Obj[], modelName };
}

type Plan =
  | { kind: 'conv'; name: string; filters: number; kernelSize: [number, number]; strides: [number, number]; pads: [number, number]; kernel: Float32Array; bias?: Float32Array; activation: Act }
  | { kind: 'dense'; name: string; units: number; kernel: Float32Array; bias?: Float32Array; activation: Act }
  | { kind: 'maxPool' | 'avgPool'; name: string; poolSize: [number, number]; strides: [number, number] }
  | { kind: 'flatten'; name: string }
  | { kind: 'act'; name: string; activation: Exclude<Act, 'linear'> }
  | { kind: 'dropout'; name: string; rate: number }
  | { kind: 'batchNorm'; name: string; epsilon: number; momentum: number; gamma?: Float32Array; beta?: Float32Array; mean: Float32Array; variance: Float32Array };

type DataFormat = 'channels_last' | 'channels_first';

/** Where TF.js's (h, w, c) flatten puts the value Backprop's (c, h, w) flatten puts at (ch·H + h)·W + w. */
function flattenedIndex(ch: number, h: number, w: number, [C, , W]: [number, number, number]): number {
  return (h * W + w) * C + ch;
}

/** A per-feature vector after a (h, w, c) flatten, in Backprop's (c, h, w) order. */
function reorderFlattened(values: Float32Array, chw: [number, number, number]): Float32Array {
  const [C, H, W] = chw;
  const out = new Float32Array(values.length);
  for (let ch = 0; ch < C; ch++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out[(ch * H + h) * W + w] = values[flattenedIndex(ch, h, w, chw)];
  return out;
}

/**
 * The layout of the model's image tensors: the data_format its Conv2D and pooling layers
 * share (channels_last when none says). Backprop's NCHW is TF.js's channels_first, so such a
 * model's input needs no transpose; a model that mixes the two is refused naming the layer.
 */
function dataLayout(layers: Obj[]): DataFormat {
  let layout: DataFormat | undefined;
  let first = '';
  layers.forEach((layer, index) => {
    if (!['Conv2D', 'MaxPooling2D', 'AveragePooling2D'].includes(layer.class_name as string)) return;
    const c = isObj(layer.config) ? layer.config : {};
    const format = c.data_format ?? 'channels_last';
    if (format !== 'channels_last' && format !== 'channels_first') return; // refused by the layer itself
    const name = `layer ${index} '${typeof c.name === 'string' ? c.name : ''}' (${String(layer.class_name)})`;
    if (layout === undefined) {
      layout = format;
      first = name;
    } else if (format !== layout) {
      throw new BackpropError(`${WHERE}: ${name}`, `data_format ${format} differs from ${first}'s ${layout}; a model must use one data format`);
    }
  });
  return layout ?? 'channels_last';
}

function planLayers(layers: Obj[], weights: Map<string, { entry: WeightEntry; values: Float32Array; used: boolean }>): { plans: Plan[]; inputShape: number[]; tfjsInputShape: number[] } {
  const plans: Plan[] = [];
  let shape: number[] | undefined; // current shape, Backprop layout: [C, H, W] or [D]
  let tfjsInputShape: number[] | undefined;
  /** The [C, H, W] a Flatten flattened, until the next Dense reorders its inputs. */
  let flattened: [number, number, number] | undefined;
  const layout = dataLayout(layers);

  layers.forEach((layer, index) => {
    const cls = layer.class_name as string;
    const c = layer.config as Obj;
    const lname = typeof c.name === 'string' && c.name !== '' ? c.name : `layer_${index}`;
    const fail = (detail: string): BackpropError => new BackpropError(`${WHERE}: layer ${index} '${lname}' (${cls})`, detail);
    const pair = (key: string, fallback?: [number, number]): [number, number] => {
      const v = c[key] ?? fallback;
      const p = typeof v === 'number' ? [v, v] : v;
      if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isSafeInteger(x) && x >= 1)) throw fail(`${key} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
      return [p[0], p[1]];
    };
    const activation = (key = 'activation'): Act => {
      const a = c[key] ?? 'linear';
      if (typeof a !== 'string' || !(TFJS_IMPORT_ACTIVATIONS as readonly string[]).includes(a)) {
        throw fail(`activation ${JSON.stringify(a)} is not supported (supported: ${TFJS_IMPORT_ACTIVATIONS.join(', ')})`);
      }
      return a as Act;
    };
    /** The layer's data_format (channels_last when unset); dataLayout has checked the conv and pool layers agree. */
    const dataFormat = (): DataFormat => {
      const f = c.data_format ?? 'channels_last';
      if (f !== 'channels_last' && f !== 'channels_first') throw fail(`data_format ${JSON.stringify(f)} is not supported (channels_last or channels_first)`);
      return f;
    };
    const take = (suffix: string, expected: number[]): Float32Array => {
      let found: string | undefined;
      const exact = `${lname}/${suffix}`;
      if (weights.has(exact)) found = exact;
      else for (const key of weights.keys()) if (key.startsWith(`${lname}/`) && key.endsWith(`/${suffix}`)) found = key;
      if (found === undefined) throw fail(`its weight '${exact}' is not in the weights manifest`);
      const w = weights.get(found)!;
      if (w.used) throw fail(`its weight '${found}' is used twice`);
      if (w.entry.shape.length !== expected.length || w.entry.shape.some((d, i) => d !== expected[i])) {
        throw fail(`weight '${found}' has shape [${w.entry.shape.join(', ')}], expected [${expected.join(', ')}]`);
      }
      w.used = true;
      return w.values;
    };
    const spatial = (): [number, number, number] => {
      if (!shape || shape.length !== 3) throw fail(`needs an image input [H, W, C], got ${shape ? `[${shape.join(', ')}]` : 'no input shape'}`);
      return shape as [number, number, number];
    };

    // The input shape: the first layer's batch_input_shape (or Keras 3 batch_shape).
    if (shape === undefined) {
      const bis = c.batch_input_shape ?? c.batch_shape;
      if (!Array.isArray(bis) || bis.length < 2 || !bis.slice(1).every((d) => Number.isSafeInteger(d) && d >= 1)) {
        throw fail(`the first layer must give the input shape (batch_input_shape [null, H, W, C] or [null, D]), got ${JSON.stringify(bis)}`);
      }
      const dims = bis.slice(1) as number[];
      if (dims.length === 3) shape = layout === 'channels_first' ? dims.slice() : [dims[2], dims[0], dims[1]];
      else if (dims.length === 1) shape = [dims[0]];
      else throw fail(`input shape [${dims.join(', ')}] is not supported (expected [H, W, C] or [D])`);
      tfjsInputShape = dims;
    }
    switch (cls) {
      case 'InputLayer':
        if (index !== 0) throw fail('an InputLayer must come first');
        return;
      case 'Dropout': {
        const rate = c.rate;
        if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw fail(`rate must be a number in [0, 1), got ${JSON.stringify(rate)}`);
        if (c.noise_shape !== undefined && c.noise_shape !== null) throw fail(`noise_shape ${JSON.stringify(c.noise_shape)} is not supported (one mask value per element only)`);
        plans.push({ kind: 'dropout', name: lname, rate });
        return;
      }
      case 'BatchNormalization': {
        if (!shape) throw fail('needs an input shape');
        // The channel axis of the TF.js tensor (batch first): the last for channels_last images and flat inputs, 1 for channels_first.
        const rank = shape.length + 1;
        const channelAxis = shape.length === 3 && layout === 'channels_first' ? 1 : rank - 1;
        const raw = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
        const axis = typeof raw === 'number' && Number.isSafeInteger(raw) ? (raw < 0 ? raw + rank : raw) : Number.NaN;
        if (axis !== channelAxis) throw fail(`axis ${JSON.stringify(c.axis)} is not supported: only the channel axis (${channelAxis} of this rank-${rank} ${layout} input), Backprop's axis 1`);
        const epsilon = c.epsilon ?? 1e-3;
        const momentum = c.momentum ?? 0.99;
        if (typeof epsilon !== 'number' || !(epsilon > 0)) throw fail(`epsilon must be a number > 0, got ${JSON.stringify(epsilon)}`);
        if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw fail(`momentum must be a number in [0, 1], got ${JSON.stringify(momentum)}`);
        const channels = shape[0];
        // After a channels_last Flatten the features are in (h, w, c) order; Backprop's are (c, h, w).
        const order = (v: Float32Array): Float32Array => (flattened ? reorderFlattened(v, flattened) : v);
        const gamma = c.scale !== false ? order(take('gamma', [channels])) : undefined;
        const beta = c.center !== false ? order(take('beta', [channels])) : undefined;
        const mean = order(take('moving_mean', [channels]));
        const variance = order(take('moving_variance', [channels]));
        const negative = variance.findIndex((v) => v < 0);
        if (negative >= 0) throw fail(`moving_variance holds ${variance[negative]} at index ${negative}; a variance is never negative`);
        plans.push({ kind: 'batchNorm', name: lname, epsilon, momentum, gamma, beta, mean, variance });
        return;
      }
      case 'Conv2D': {
        dataFormat();
        const [C, H, W] = spatial();
        const filters = c.filters;
        if (!Number.isSafeInteger(filters) || (filters as number) < 1) throw fail(`filters must be a positive integer, got ${JSON.stringify(filters)}`);
        const F = filters as number;
        const k = pair('kernel_size');
        const s = pair('strides', [1, 1]);
        const d = pair('dilation_rate', [1, 1]);
        if (d[0] !== 1 || d[1] !== 1) throw fail(`dilation_rate [${d.join(', ')}] is not supported (only 1)`);
        if (c.groups !== undefined && c.groups !== 1) throw fail(`groups ${JSON.stringify(c.groups)} is not supported (only 1)`);
        const act = activation();
        if (act === 'softmax') throw fail('activation softmax on a Conv2D (over channels) is not supported');
        const padding = c.padding ?? 'valid';
        const pads: [number, number] = [0, 0];
        const out = [0, 0];
        for (let a = 0; a < 2; a++) {
          const n = a === 0 ? H : W;
          if (padding === 'valid') {
            if (n < k[a]) throw fail(`its kernel ${k[0]}×${k[1]} is larger than its input ${H}×${W}`);
            out[a] = Math.floor((n - k[a]) / s[a]) + 1;
          } else if (padding === 'same') {
            const same = samePadding(`${WHERE}: layer ${index} '${lname}'`, n, k[a], s[a]);
            if (same.symmetric === undefined) {
              throw fail(`padding 'same' needs ${same.total} pixel(s) of ${a === 0 ? 'vertical' : 'horizontal'} padding for kernel ${k[a]}, stride ${s[a]} on size ${n}; TF puts the extra pixel at the ${a === 0 ? 'bottom' : 'right'}, which Backprop's symmetric padding cannot express`);
            }
            out[a] = same.out;
            pads[a] = same.symmetric;
          } else throw fail(`padding ${JSON.stringify(padding)} is not supported (valid or same)`);
        }
        const useBias = c.use_bias !== false;
        const tk = take('kernel', [k[0], k[1], C, F]);
        const kernel = new Float32Array(F * C * k[0] * k[1]);
        for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) for (let ch = 0; ch < C; ch++) for (let f = 0; f < F; f++) {
          kernel[((f * C + ch) * k[0] + i) * k[1] + j] = tk[((i * k[1] + j) * C + ch) * F + f];
        }
        const bias = useBias ? take('bias', [F]) : undefined;
        plans.push({ kind: 'conv', name: lname, filters: F, kernelSize: k, strides: s, pads, kernel, bias, activation: act });
        shape = [F, out[0], out[1]];
        return;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        dataFormat();
        const [C, H, W] = spatial();
        const p = pair('pool_size', [2, 2]);
        const s = c.strides === null || c.strides === undefined ? p : pair('strides');
        const padding = c.padding ?? 'valid';
        if (padding !== 'valid' && padding !== 'same') throw fail(`padding ${JSON.stringify(padding)} is not supported`);
        const out = [0, 0];
        for (let a = 0; a < 2; a++) {
          const n = a === 0 ? H : W;
          if (n < p[a]) throw fail(`its pool ${p[0]}×${p[1]} is larger than its input ${H}×${W}`);
          out[a] = Math.floor((n - p[a]) / s[a]) + 1;
          if (padding === 'same' && samePadding(`${WHERE}: layer ${index} '${lname}'`, n, p[a], s[a]).total !== 0) {
            throw fail(`padding 'same' pads this ${H}×${W} input (pool ${p[0]}×${p[1]}, strides ${s[0]}×${s[1]}); only 'valid' pooling (or 'same' where it needs no padding) is supported`);
          }
        }
        plans.push({ kind: cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool', name: lname, poolSize: p, strides: s });
        shape = [C, out[0], out[1]];
        return;
      }
      case 'Flatten': {
        const format = dataFormat();
        if (shape!.length === 3) {
          // TF.js flattens a channels_first Flatten's input as (h, w, c) (it moves the channels last first),
          // a channels_last one in the order it is stored: (h, w, c) for channels_last data, (c, h, w) — Backprop's own — for channels_first data.
          if (layout === 'channels_last' && format === 'channels_first') throw fail('a channels_first Flatten of channels_last data (flattened in (w, c, h) order) is not supported');
          if (layout === 'channels_last' || format === 'channels_first') flattened = shape as [number, number, number];
          plans.push({ kind: 'flatten', name: lname });
          shape = [shape!.reduce((a, b) => a * b, 1)];
        }
        return;
      }
      case 'Dense': {
        if (shape!.length !== 1) throw fail(`needs a flat input [D], got [${shape!.join(', ')}] (add a Flatten before it)`);
        const units = c.units;
        if (!Number.isSafeInteger(units) || (units as number) < 1) throw fail(`units must be a positive integer, got ${JSON.stringify(units)}`);
        const U = units as number;
        const D = shape![0];
        const act = activation();
        const tk = take('kernel', [D, U]);
        const kernel = new Float32Array(U * D);
        if (flattened) {
          // TF flattens (h, w, c); Backprop flattens (c, h, w).
          const [C, H, W] = flattened;
          for (let ch = 0; ch < C; ch++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
            const bp = (ch * H + h) * W + w;
            const tf = flattenedIndex(ch, h, w, flattened);
            for (let o = 0; o < U; o++) kernel[o * D + bp] = tk[tf * U + o];
          }
          flattened = undefined;
        } else {
          for (let i = 0; i < D; i++) for (let o = 0; o < U; o++) kernel[o * D + i] = tk[i * U + o];
        }
        const bias = c.use_bias !== false ? take('bias', [U]) : undefined;
        plans.push({ kind: 'dense', name: lname, units: U, kernel, bias, activation: act });
        shape = [U];
        return;
      }
      case 'Activation': {
        const act = activation();
        if (act === 'linear') return;
        const prev = plans[plans.length - 1];
        if (act === 'softmax' && shape!.length !== 1) throw fail(`softmax over channels of a [${shape!.join(', ')}] input is not supported (only on a flat input)`);
        if (prev && (prev.kind === 'conv' || prev.kind === 'dense') && prev.activation === 'linear' && !(act === 'softmax' && prev.kind === 'conv')) prev.activation = act;
        else plans.push({ kind: 'act', name: lname, activation: act });
        return;
      }
      default:
        throw fail(`layer class '${cls}' is not supported; ${SUPPORTED}`);
    }
  });
  const unused = [...weights.entries()].filter(([, w]) => !w.used).map(([n]) => n);
  if (unused.length > 0) throw new BackpropError(WHERE, `the weights manifest holds weights no supported layer uses: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ' …' : ''}`);
  if (plans.every((p) => p.kind === 'dropout')) throw new BackpropError(WHERE, 'the model has no layers Backprop needs (only InputLayer/Dropout)');
  const tfjs = tfjsInputShape!;
  return { plans, inputShape: tfjs.length === 3 && layout === 'channels_last' ? [tfjs[2], tfjs[0], tfjs[1]] : tfjs.slice(), tfjsInputShape: tfjs };
}

function build(plan: { plans: Plan[]; inputShape: number[] }, name: string, options: FromTfjsLayersOptions): Sequential {
  const layers: Layer[] = [];
  const weights: NamedArray[] = [];
  const used = new Set<string>();
  const unique = (base: string): string => {
    const clean = base.replace(/\//g, '_');
    let candidate = clean;
    for (let i = 1; used.has(candidate); i++) candidate = `${clean}_${i}`;
    used.add(candidate);
    return candidate;
  };
  try {
    for (const s of plan.plans) {
      const n = unique(s.name);
      switch (s.kind) {
        case 'conv':
          layers.push(new Conv2D({ name: n, filters: s.filters, kernelSize: s.kernelSize, strides: s.strides, padding: s.pads, activation: s.activation as Exclude<Act, 'softmax'>, useBias: s.bias !== undefined }));
          weights.push({ name: `${n}/kernel`, shape: [s.filters, s.kernel.length / (s.filters * s.kernelSize[0] * s.kernelSize[1]), ...s.kernelSize], values: s.kernel });
          if (s.bias) weights.push({ name: `${n}/bias`, shape: [s.filters], values: s.bias });
          break;
        case 'dense':
          layers.push(new Dense({ name: n, units: s.units, activation: s.activation, useBias: s.bias !== undefined }));
          weights.push({ name: `${n}/kernel`, shape: [s.units, s.kernel.length / s.units], values: s.kernel });
          if (s.bias) weights.push({ name: `${n}/bias`, shape: [s.units], values: s.bias });
          break;
        case 'maxPool': layers.push(new MaxPool2D({ name: n, poolSize: s.poolSize, strides: s.strides })); break;
        case 'avgPool': layers.push(new AvgPool2D({ name: n, poolSize: s.poolSize, strides: s.strides })); break;
        case 'flatten': layers.push(new Flatten({ name: n })); break;
        case 'dropout': layers.push(new Dropout({ name: n, rate: s.rate })); break;
        case 'batchNorm': {
          layers.push(new BatchNormalization({ name: n, epsilon: s.epsilon, momentum: s.momentum, scale: s.gamma !== undefined, center: s.beta !== undefined }));
          const shape = [s.mean.length];
          if (s.gamma) weights.push({ name: `${n}/gamma`, shape, values: s.gamma });
          if (s.beta) weights.push({ name: `${n}/beta`, shape, values: s.beta });
          weights.push({ name: `${n}/movingMean`, shape, values: s.mean }, { name: `${n}/movingVariance`, shape, values: s.variance });
          break;
        }
        case 'act':
          if (s.activation === 'relu') layers.push(new ReLU({ name: n }));
          else if (s.activation === 'sigmoid') layers.push(new Sigmoid({ name: n }));
          else if (s.activation === 'tanh') layers.push(new Tanh({ name: n }));
          else layers.push(new Softmax({ name: n }));
          break;
      }
    }
  } catch (error) {
    for (const layer of layers) layer.dispose();
    throw error instanceof BackpropError ? new BackpropError(WHERE, `the model does not make Backprop layers: ${error.message}`) : error;
  }
  return assembleModel(WHERE, 'model', { name, inputShape: plan.inputShape, layers, registry: options.registry, dtype: options.dtype }, weights);
}

/**
 * Node: reads a TF.js Layers model saved with `model.save('file://dir')` — `dir/model.json`
 * and the weight shards its weightsManifest names (which must stay inside `dir`) — with
 * `fromTfjsLayers`.
 */
export async function loadTfjsLayers(dir: string, options: FromTfjsLayersOptions = {}): Promise<TfjsLayersImport> {
  const where = 'loadTfjsLayers';
  if (typeof dir !== 'string' || dir.length === 0) throw new BackpropError(where, `dir must be a directory path, got ${describe(dir)}`);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const root = path.resolve(dir);
  const jsonPath = path.join(root, 'model.json');
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (error) {
    throw new BackpropError(where, `cannot read '${jsonPath}' (${(error as { code?: string })?.code ?? String(error)}); is '${dir}' a saved TF.js Layers model?`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BackpropError(where, `'${jsonPath}' is not valid JSON (${(error as Error).message})`);
  }
  if (!isObj(json) || !Array.isArray(json.weightsManifest)) throw new BackpropError(where, `'${jsonPath}' has no weightsManifest`);
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    if (!isObj(group) || !Array.isArray(group.paths)) throw new BackpropError(where, `'${jsonPath}': a weightsManifest group has no paths`);
    for (const p of group.paths) {
      if (typeof p !== 'string' || p === '') throw new BackpropError(where, `'${jsonPath}': a shard path is not a non-empty string`);
      const full = path.resolve(root, p);
      const rel = path.relative(root, full);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new BackpropError(where, `shard path '${p}' leaves the model directory '${dir}'`);
      try {
        shards.push(new Uint8Array(await fs.readFile(full)));
      } catch (error) {
        throw new BackpropError(where, `cannot read the weight shard '${full}' (${(error as { code?: string })?.code ?? String(error)})`);
      }
    }
  }
  return fromTfjsLayers(json, shards, options);
}
