import { BackpropError, checkFloatDtype, type ComponentJSON, crc32, defaultRegistry, describeValue as describe, type FloatDataType, maxElements, type Optimizer, type Registry, shapeToString, sizeOfShape, type Tensor } from '@backprop/tensor';
import { fileError, writeFileAtomic } from '@backprop/tensor/node';
import { firstNonFinite, isPlainObject } from './data.js';
import { runAsync, runSync } from './readback.js';
import { Sequential } from './sequential.js';
import { checkInputShape, checkLayerList, createLayers, nameLayers, planLayers } from './topology.js';
import { type NamedArray, paramTensors, readNamed } from './weights.js';

export const MODEL_FORMAT = 'backprop.sequential';
export const MODEL_FORMAT_VERSION = 1;

/** A model's topology, as `Sequential.toJSON()` writes it and `Sequential.fromJSON` reads it. */
export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  name: string;
  inputShape: number[];
  dtype: FloatDataType;
  seed: number;
  layers: { className: string; config: Record<string, unknown> }[];
}

/** Checks a topology's format, version and fields (the layer configs are checked by the layers' constructors). */
export function checkModelJSON(json: unknown): ModelJSON {
  const where = 'model JSON';
  if (!json || typeof json !== 'object') throw new BackpropError(where, 'expected an object');
  const j = json as Partial<ModelJSON>;
  if (j.format !== MODEL_FORMAT) throw new BackpropError(where, `format must be '${MODEL_FORMAT}', got ${JSON.stringify(j.format)}`);
  if (j.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new BackpropError(where, `unsupported format version ${JSON.stringify(j.formatVersion)}; this library reads version ${MODEL_FORMAT_VERSION}`);
  }
  if (!Array.isArray(j.inputShape)) throw new BackpropError(where, `inputShape must be an array of positive integers, got ${describe(j.inputShape)}`);
  if (!Array.isArray(j.layers) || j.layers.length === 0) throw new BackpropError(where, `layers must be a non-empty array of { className, config }, got ${describe(j.layers)}`);
  j.layers.forEach((l: unknown, i: number) => {
    const layer = l as { className?: unknown; config?: unknown } | null;
    if (!isPlainObject(layer) || typeof layer.className !== 'string' || !isPlainObject(layer.config)) {
      throw new BackpropError(where, `layers[${i}] must be { className: string, config: object }, got ${describe(l)}`);
    }
  });
  if (j.dtype !== 'float32' && j.dtype !== 'float64') throw new BackpropError(where, `dtype must be float32 or float64, got ${JSON.stringify(j.dtype)}`);
  if (j.name !== undefined && typeof j.name !== 'string') throw new BackpropError(where, `name must be a string, got ${describe(j.name)}`);
  if (j.seed !== undefined && (typeof j.seed !== 'number' || !Number.isFinite(j.seed))) throw new BackpropError(where, `seed must be a finite number, got ${describe(j.seed)}`);
  return { ...j, name: j.name ?? 'sequential', seed: j.seed ?? 1 } as ModelJSON;
}

/**
 * The parameters (full names and shapes, in model order) that `Sequential.fromJSON(json)`
 * would create, computed without allocating anything; undefined when a layer does not
 * declare its parameters (`Layer.paramShapes`). Throws what `fromJSON` would throw for
 * an invalid topology. Loaders use it to check saved weights against the model before
 * building it.
 */
export function planParams(json: unknown, options: { registry?: Registry; dtype?: FloatDataType } = {}): { name: string; shape: number[] }[] | undefined {
  const topology = checkModelJSON(json);
  const dtype = checkFloatDtype('Sequential', options.dtype ?? topology.dtype);
  const layers = createLayers(topology.layers, options.registry ?? defaultRegistry);
  checkLayerList('Sequential', layers);
  const inputShape = checkInputShape('Sequential', topology.inputShape, dtype);
  nameLayers(layers);
  const plans = planLayers(inputShape, layers, dtype);
  if (plans.some((p) => p.params === undefined)) return undefined;
  return plans.flatMap((p, i) => Object.entries(p.params!).map(([short, shape]) => ({ name: `${layers[i].name}/${short}`, shape })));
}

/**
 * The saved form of a model, the same in Node and in the browser:
 * `manifest` (JSON: topology, weight specs, checksums, optimizer, metadata) and
 * `weightData` (the tensors back to back, little-endian, each in its dtype).
 * In Node, `saveModel(dir)` writes them as `model.json` and `weights-<crc>.bin`.
 */
export interface ModelArtifacts {
  manifest: ModelManifest;
  weightData: ArrayBuffer;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'float64';
  /** Byte offset into weightData. */
  offset: number;
}

export interface ModelManifest {
  topology: ModelJSON;
  weights: {
    /** File holding weightData when saved to a directory: `weights-<crc32>.bin`. */
    file: string;
    byteLength: number;
    /** CRC-32 of weightData, 8 hex digits. */
    crc32: string;
    specs: WeightSpec[];
  };
  optimizer?: { spec: ComponentJSON; iterations: number; slots: string[] };
  /**
   * The position of each random layer's stream (Dropout, the augmentation layers), by
   * layer name: the training forwards drawn so far (`Layer.randomStreamPosition`).
   * Saved with the optimizer state (`includeOptimizer`) so that training resumed from
   * the file draws the masks and transforms the uninterrupted run would have; absent
   * (older files, `includeOptimizer: false`), the loaded streams start from 0.
   */
  randomStreams?: Record<string, number>;
  /** Free-form JSON the caller stores with the model (e.g. the CLI's training state). */
  metadata?: Record<string, unknown>;
  /**
   * The name of each output class (output i is `classNames[i]`): one distinct, non-empty
   * string per output of a classifier, e.g. the sorted subfolders of an image folder.
   */
  classNames?: string[];
  savedAt: string;
  library: string;
  /**
   * CRC-32 (8 hex digits) of the canonical JSON of every other field of the manifest
   * (`manifestChecksum`), so an edited or damaged manifest is detected as the weights
   * are. Manifests saved before it existed lack it: they still load, after the same
   * full schema validation, but an edit to them cannot be told from the original.
   */
  manifestCrc32?: string;
}

const OPTIMIZER_PREFIX = 'optimizer:';
const LIBRARY = '@backprop/layers';
const WEIGHTS_FILE = /^weights-[0-9a-f]{8}\.bin$/;
const HEX8 = /^[0-9a-f]{8}$/;

type ArtifactOptions = { includeOptimizer?: boolean; metadata?: Record<string, unknown>; classNames?: readonly string[] };

/**
 * The model (and, by default, its optimizer state) as artifacts, read synchronously; see
 * `toArtifactsAsync`. Refuses a disposed model and non-finite weights or optimizer
 * state (a diverged model is never checkpointed over a good one).
 */
export function toArtifacts(model: Sequential, options: ArtifactOptions = {}): ModelArtifacts {
  const { tensors, ...state } = collect('toArtifacts', model, options);
  return pack('toArtifacts', model, runSync(readNamed(tensors)), state);
}

/** `toArtifacts` reading the weights with `await data()`: works on every backend (WebGPU included). */
export async function toArtifactsAsync(model: Sequential, options: ArtifactOptions = {}): Promise<ModelArtifacts> {
  const { tensors, ...state } = collect('toArtifactsAsync', model, options);
  return pack('toArtifactsAsync', model, await runAsync(readNamed(tensors)), state);
}

/** What a manifest records besides the topology and the weight specs. */
type ManifestState = Pick<ModelManifest, 'optimizer' | 'randomStreams' | 'metadata' | 'classNames'>;

/** Every tensor to save (weights, then optimizer slots), in order, and the rest of the manifest's state. */
function collect(where: string, model: Sequential, options: ArtifactOptions): ManifestState & { tensors: { name: string; tensor: Tensor }[] } {
  if (!(model instanceof Sequential)) throw new BackpropError(where, `expects a Sequential model, got ${describe(model)}`);
  // A disposed model has no parameters left: saving it would write an empty model over a good one.
  model.assertUsable(where);
  if (!isPlainObject(options)) throw new BackpropError(where, `options must be an object, got ${describe(options)}`);
  if (options.includeOptimizer !== undefined && typeof options.includeOptimizer !== 'boolean') {
    throw new BackpropError(where, `includeOptimizer must be true or false, got ${describe(options.includeOptimizer)}`);
  }
  const metadata = options.metadata === undefined ? undefined : toJSONData(where, 'metadata', options.metadata);
  const classNames = options.classNames === undefined ? undefined : checkClassNames(options.classNames, model.outputShape, (detail) => {
    throw new BackpropError(where, detail);
  });
  const tensors = paramTensors(model.params());
  const training = options.includeOptimizer ?? true;
  let optimizer: ModelManifest['optimizer'];
  if (training && model.optimizer) {
    const state = model.optimizer.getState();
    const slots = Object.keys(state.tensors).sort();
    for (const slot of slots) tensors.push({ name: OPTIMIZER_PREFIX + slot, tensor: state.tensors[slot] });
    optimizer = { spec: { name: model.optimizer.name, config: toJSONData(where, 'optimizer config', model.optimizer.getConfig()) }, iterations: state.iterations, slots };
  }
  for (const t of tensors) if (t.tensor.isDisposed) throw new BackpropError(where, `${describeSpec(t.name)} was disposed; nothing is saved`);
  const random = model.layers.filter((l) => l.randomStreamPosition !== undefined);
  const randomStreams = training && random.length > 0 ? Object.fromEntries(random.map((l) => [l.name!, l.randomStreamPosition!])) : undefined;
  return { tensors, optimizer, randomStreams, metadata, classNames };
}

/** Class names as the manifest holds them: distinct non-empty strings, one per output of the model. */
function checkClassNames(value: unknown, outputShape: readonly number[], fail: (detail: string) => never): string[] {
  if (!Array.isArray(value) || value.some((n) => typeof n !== 'string' || n.length === 0)) {
    return fail(`classNames must be an array of non-empty strings, got ${describe(value)}`);
  }
  const outputs = outputShape.reduce((a, d) => a * d, 1);
  if (outputShape.length !== 1 || value.length !== outputs) {
    return fail(`classNames has ${value.length} names but the model has output shape [${outputShape.join(', ')}]; give one name per output of a classifier`);
  }
  const seen = new Set<string>();
  for (const name of value as string[]) {
    if (seen.has(name)) return fail(`classNames names '${name}' twice`);
    seen.add(name);
  }
  return [...(value as string[])];
}

function pack(where: string, model: Sequential, named: NamedArray[], { optimizer, randomStreams, metadata, classNames }: ManifestState): ModelArtifacts {
  const specs: WeightSpec[] = [];
  let byteLength = 0;
  for (const w of named) {
    // Nothing non-finite is ever saved: a checkpoint of a diverged model must not replace a good one.
    const bad = firstNonFinite(w.values);
    if (bad >= 0) {
      throw new BackpropError(where, `${describeSpec(w.name)} value ${bad} is ${w.values[bad]}; a model with non-finite values is not saved (did training diverge?)`);
    }
    const dtype = w.values instanceof Float64Array ? 'float64' : 'float32';
    // Keep every float64 tensor 8-byte aligned so it can be viewed in place.
    if (dtype === 'float64') byteLength = Math.ceil(byteLength / 8) * 8;
    specs.push({ name: w.name, shape: [...w.shape], dtype, offset: byteLength });
    byteLength += w.values.byteLength;
  }
  const bytes = new Uint8Array(byteLength);
  named.forEach((w, i) => bytes.set(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength), specs[i].offset));
  const crc = hex(crc32(bytes));
  const manifest: ModelManifest = {
    topology: model.toJSON(),
    weights: { file: `weights-${crc}.bin`, byteLength, crc32: crc, specs },
    savedAt: new Date().toISOString(),
    library: LIBRARY,
  };
  if (optimizer) manifest.optimizer = optimizer;
  if (randomStreams) manifest.randomStreams = randomStreams;
  if (metadata) manifest.metadata = metadata;
  if (classNames) manifest.classNames = classNames;
  manifest.manifestCrc32 = manifestChecksum(manifest);
  return { manifest, weightData: bytes.buffer };
}

/**
 * The CRC-32 (8 hex digits) of a manifest's canonical JSON: every field but
 * `manifestCrc32`, object keys sorted, no whitespace. Key order and formatting do
 * not change it; any change of a value does. A tool that edits a manifest on purpose
 * stores the new value in `manifestCrc32`.
 */
export function manifestChecksum(manifest: ModelManifest): string {
  if (!isPlainObject(manifest)) throw new BackpropError('manifestChecksum', `expects a manifest object, got ${describe(manifest)}`);
  const { manifestCrc32: _, ...rest } = manifest;
  return hex(crc32(new TextEncoder().encode(canonicalJSON(rest))));
}

/** JSON with object keys sorted at every level: the same data always gives the same text. */
function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJSON(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined);
    return `{${entries.map((k) => `${JSON.stringify(k)}:${canonicalJSON((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Rebuilds a model from artifacts. Before a single weight byte is read, the manifest
 * is validated whole: its checksum (where it has one), every field's type and range,
 * every layer config (through the layer constructors), and every weight spec — a known
 * dtype equal to the model's, inside the data, no overlaps or unclaimed bytes, and
 * exactly the model's parameter names and shapes (optimizer slots: their parameter's
 * shape). Then the data's length and CRC-32 are checked, and every value must be
 * finite. Any failure is a BackpropError and nothing is half-loaded.
 */
export function fromArtifacts(artifacts: ModelArtifacts, options: { registry?: Registry; source?: string } = {}): Sequential {
  if (!isPlainObject(options)) throw new BackpropError('fromArtifacts', `options must be an object, got ${describe(options)}`);
  const registry = options.registry ?? defaultRegistry;
  const source = options.source ?? 'model';
  if (!isPlainObject(artifacts)) throw new BackpropError(source, `fromArtifacts expects { manifest, weightData }, got ${describe(artifacts)}`);
  const manifest = checkManifest(artifacts.manifest, registry, `${source} manifest`);
  const raw: unknown = artifacts.weightData;
  if (!(raw instanceof ArrayBuffer) && !ArrayBuffer.isView(raw)) {
    throw new BackpropError(`${source} weights`, `weightData must be an ArrayBuffer (or a view of one), got ${describe(raw)}`);
  }
  const bytes = raw instanceof ArrayBuffer ? new Uint8Array(raw) : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  return restore(manifest, bytes, registry, `${source} weights`);
}

/** A manifest that passed `checkManifest`. */
interface CheckedManifest extends ModelManifest {
  readonly checked: true;
}

/**
 * Everything that can be checked without the weight bytes, in this order: the format
 * and version (a newer file gets that message, not a checksum error), the manifest
 * checksum, the schema, the layer configs and the specs against the model's
 * parameters, the optimizer spec.
 */
function checkManifest(value: unknown, registry: Registry, where: string): CheckedManifest {
  const fail = (detail: string): never => {
    throw new BackpropError(where, detail);
  };
  if (!isPlainObject(value)) fail(`not a Backprop model manifest: expected an object, got ${describe(value)}`);
  const m = value as Record<string, unknown>;
  if (!isPlainObject(m.topology) || !isPlainObject(m.weights)) fail('not a Backprop model manifest (missing topology or weights)');
  const topology = m.topology as Record<string, unknown>;
  if (topology.format !== MODEL_FORMAT) fail(`not a Backprop model manifest: topology.format must be '${MODEL_FORMAT}', got ${describe(topology.format)}`);
  if (topology.formatVersion !== MODEL_FORMAT_VERSION) {
    fail(`unsupported format version ${describe(topology.formatVersion)}; this library reads version ${MODEL_FORMAT_VERSION}`);
  }
  if (m.manifestCrc32 !== undefined) {
    if (typeof m.manifestCrc32 !== 'string' || !HEX8.test(m.manifestCrc32)) fail(`manifestCrc32 must be 8 lowercase hex digits, got ${describe(m.manifestCrc32)}`);
    let actual: string;
    try {
      actual = manifestChecksum(m as unknown as ModelManifest);
    } catch (error) {
      // Only an in-memory manifest can get here (a cycle, a BigInt): JSON text cannot hold them.
      return fail(`is not JSON data (${(error as Error).message})`);
    }
    if (actual !== m.manifestCrc32) {
      fail(`manifest checksum mismatch (crc32 ${actual}, manifestCrc32 says ${m.manifestCrc32}): the manifest was edited or is corrupt`);
    }
  }
  if (m.library !== LIBRARY) fail(`library must be '${LIBRARY}', got ${describe(m.library)}`);
  if (typeof m.savedAt !== 'string') fail(`savedAt must be a string, got ${describe(m.savedAt)}`);
  if (m.metadata !== undefined) {
    if (!isPlainObject(m.metadata)) fail(`metadata must be an object, got ${describe(m.metadata)}`);
    toJSONData(where, 'metadata', m.metadata);
  }
  let model: ModelJSON;
  try {
    model = checkModelJSON(topology);
  } catch (error) {
    return fail(`topology: ${(error as Error).message}`);
  }
  // The count against the outputs is checked once the model is built (restore).
  if (m.classNames !== undefined) checkClassNames(m.classNames, [Array.isArray(m.classNames) ? m.classNames.length : 0], fail);
  const dtype = model.dtype;

  // weights: the data's description.
  const w = m.weights as Record<string, unknown>;
  if (!isSize(w.byteLength)) fail(`weights.byteLength must be a non-negative integer, got ${describe(w.byteLength)}`);
  if (typeof w.crc32 !== 'string' || !HEX8.test(w.crc32)) fail(`weights.crc32 must be 8 lowercase hex digits, got ${describe(w.crc32)}`);
  if (w.file !== `weights-${w.crc32}.bin`) fail(`weights.file must be 'weights-${w.crc32}.bin' (named by its crc32), got ${describe(w.file)}`);
  if (!Array.isArray(w.specs)) fail(`weights.specs must be an array, got ${describe(w.specs)}`);
  const byteLength = w.byteLength as number;
  const specs = w.specs as unknown[];
  const names = new Set<string>();
  const layout: { name: string; start: number; end: number }[] = [];
  specs.forEach((s, i) => {
    const at = `weights.specs[${i}]`;
    if (!isPlainObject(s)) fail(`${at} must be { name, shape, dtype, offset }, got ${describe(s)}`);
    const spec = s as Record<string, unknown>;
    if (typeof spec.name !== 'string' || spec.name.length === 0) fail(`${at}.name must be a non-empty string, got ${describe(spec.name)}`);
    const name = spec.name as string;
    if (names.has(name)) fail(`${at}: two specs are named '${name}'`);
    names.add(name);
    if (!Array.isArray(spec.shape) || spec.shape.some((d) => !isSize(d) || d < 1)) {
      fail(`${at} ('${name}').shape must be an array of positive integers, got ${describe(spec.shape)}`);
    }
    if (spec.dtype !== 'float32' && spec.dtype !== 'float64') fail(`${at} ('${name}').dtype must be 'float32' or 'float64', got ${describe(spec.dtype)}`);
    // Parameters and optimizer slots are created in the model's dtype: another one means the bytes would be misread.
    if (spec.dtype !== dtype) fail(`${at} ('${name}') is stored as ${spec.dtype as string} but the model is ${dtype}`);
    const elementBytes = dtype === 'float64' ? 8 : 4;
    const count = sizeOfShape(spec.shape as number[]);
    if (count > maxElements(dtype)) fail(`${at} ('${name}') has shape ${shapeToString(spec.shape as number[])}, more ${dtype} values than one tensor may hold`);
    if (!isSize(spec.offset) || (spec.offset as number) % elementBytes !== 0) {
      fail(`${at} ('${name}').offset must be a non-negative multiple of ${elementBytes} (its element size), got ${describe(spec.offset)}`);
    }
    const start = spec.offset as number;
    const end = start + count * elementBytes;
    if (end > byteLength) fail(`${at} ('${name}') spans bytes [${start}, ${end}) but the data has ${byteLength}`);
    layout.push({ name, start, end });
  });
  // Every byte belongs to exactly one tensor: the writer packs them back to back (one
  // dtype, so no alignment gaps). An edited offset shows up as an overlap or a hole.
  layout.sort((a, b) => a.start - b.start);
  let cursor = 0;
  for (const t of layout) {
    if (t.start < cursor) fail(`weights '${t.name}' (bytes [${t.start}, ${t.end})) overlaps the tensor before it (which ends at byte ${cursor})`);
    if (t.start > cursor) fail(`bytes [${cursor}, ${t.start}) of the data belong to no tensor (before '${t.name}'): offsets were edited`);
    cursor = t.end;
  }
  if (cursor !== byteLength) fail(`bytes [${cursor}, ${byteLength}) of the data belong to no tensor: byteLength or the specs were edited`);

  // optimizer: its spec, step count and slots.
  let slots: string[] = [];
  if (m.optimizer !== undefined) {
    if (!isPlainObject(m.optimizer)) fail(`optimizer must be { spec, iterations, slots }, got ${describe(m.optimizer)}`);
    const o = m.optimizer as Record<string, unknown>;
    if (!isPlainObject(o.spec) || typeof (o.spec as { name?: unknown }).name !== 'string' || !isPlainObject((o.spec as { config?: unknown }).config)) {
      fail(`optimizer.spec must be { name: string, config: object }, got ${describe(o.spec)}`);
    }
    if (!isSize(o.iterations)) fail(`optimizer.iterations must be a non-negative integer, got ${describe(o.iterations)}`);
    if (!Array.isArray(o.slots) || o.slots.some((s) => typeof s !== 'string' || s.length === 0)) {
      fail(`optimizer.slots must be an array of slot names, got ${describe(o.slots)}`);
    }
    slots = o.slots as string[];
    if (new Set(slots).size !== slots.length) fail('optimizer.slots names a slot twice');
    for (const slot of slots) if (!names.has(OPTIMIZER_PREFIX + slot)) fail(`optimizer slot '${slot}' has no spec '${OPTIMIZER_PREFIX}${slot}' in weights.specs`);
    let optimizer: Optimizer;
    try {
      optimizer = registry.optimizers.create(o.spec as ComponentJSON);
    } catch (error) {
      return fail(`optimizer: ${(error as Error).message}`);
    }
    optimizer.dispose();
  }
  // randomStreams: a position per random layer (its names are matched with the model's below).
  if (m.randomStreams !== undefined) {
    if (!isPlainObject(m.randomStreams)) fail(`randomStreams must be an object of { <layer name>: <position> }, got ${describe(m.randomStreams)}`);
    for (const [name, position] of Object.entries(m.randomStreams as Record<string, unknown>)) {
      if (!isSize(position)) fail(`randomStreams['${name}'] must be a non-negative integer (training forwards drawn so far), got ${describe(position)}`);
    }
  }
  const slotSpecs = new Set(slots.map((s) => OPTIMIZER_PREFIX + s));
  for (const name of names) {
    if (name.startsWith(OPTIMIZER_PREFIX) && !slotSpecs.has(name)) fail(`spec '${name}' is not one of optimizer.slots`);
  }

  // The model's own parameters, computed from the topology without allocating them.
  let planned: { name: string; shape: number[] }[] | undefined;
  try {
    planned = planParams(model, { registry });
  } catch (error) {
    return fail(`topology: ${(error as Error).message}`);
  }
  if (planned) {
    const specShapes = new Map((specs as WeightSpec[]).map((s) => [s.name, s.shape]));
    const paramShapes = new Map(planned.map((p) => [p.name, p.shape]));
    for (const p of planned) {
      const shape = specShapes.get(p.name);
      if (!shape) fail(`missing weights for '${p.name}' (the model's parameters: ${planned.map((q) => q.name).join(', ')})`);
      if (!sameShape(shape!, p.shape)) fail(`'${p.name}' has shape ${shapeToString(shape!)} but the model expects ${shapeToString(p.shape)}`);
    }
    for (const name of names) {
      if (slotSpecs.has(name) || paramShapes.has(name)) continue;
      fail(`weights for '${name}', which is not a parameter of the model (its parameters: ${planned.map((q) => q.name).join(', ')})`);
    }
    for (const slot of slots) {
      const param = slot.slice(0, slot.lastIndexOf('/'));
      const expected = paramShapes.get(param);
      if (!expected) fail(`optimizer slot '${slot}' belongs to no parameter of the model (slots are '<parameter>/<slot>')`);
      const shape = specShapes.get(OPTIMIZER_PREFIX + slot)!;
      if (!sameShape(shape, expected!)) fail(`optimizer slot '${slot}' has shape ${shapeToString(shape)} but parameter '${param}' has ${shapeToString(expected!)}`);
    }
  }
  if (m.randomStreams !== undefined) {
    const saved = Object.keys(m.randomStreams as Record<string, number>);
    const random = randomLayerNames(model, registry);
    const unknown = saved.find((name) => !random.includes(name));
    const missing = random.find((name) => !saved.includes(name));
    const layers = `the model's random layers: ${random.length > 0 ? random.join(', ') : 'none'}`;
    if (unknown !== undefined) fail(`randomStreams names '${unknown}', which is not a layer of the model that draws random numbers (${layers})`);
    if (missing !== undefined) fail(`randomStreams has no position for layer '${missing}' (${layers})`);
  }
  return { ...(m as unknown as ModelManifest), topology: model, checked: true };
}

/** The names of the layers of a (checked) topology that draw random numbers (Dropout, augmentation), found without building it. */
function randomLayerNames(topology: ModelJSON, registry: Registry): string[] {
  const layers = createLayers(topology.layers, registry);
  checkLayerList('Sequential', layers);
  nameLayers(layers);
  return layers.filter((l) => l.randomStreamPosition !== undefined).map((l) => l.name!);
}

/** Checks the bytes against the (checked) manifest, then builds the model and its optimizer. */
function restore(manifest: CheckedManifest, bytes: Uint8Array, registry: Registry, where: string): Sequential {
  if (bytes.byteLength !== manifest.weights.byteLength) {
    throw new BackpropError(where, `weights are ${bytes.byteLength} bytes but the manifest expects ${manifest.weights.byteLength} (truncated or wrong file)`);
  }
  const crc = hex(crc32(bytes));
  if (crc !== manifest.weights.crc32) {
    throw new BackpropError(where, `weights checksum mismatch (crc32 ${crc}, manifest says ${manifest.weights.crc32}): the file is corrupt`);
  }
  const dtype: FloatDataType = manifest.topology.dtype;
  const arrays = new Map<string, NamedArray>();
  for (const spec of manifest.weights.specs) {
    const count = sizeOfShape(spec.shape);
    const copy = bytes.slice(spec.offset, spec.offset + count * (dtype === 'float64' ? 8 : 4)).buffer;
    const values = dtype === 'float64' ? new Float64Array(copy) : new Float32Array(copy);
    // A valid checksum only says the bytes are the ones written: a NaN or Inf weight
    // written by an older version (or another tool) must still not load and predict.
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new BackpropError(where, `${describeSpec(spec.name)} value ${bad} is ${values[bad]}; a model with non-finite values is not loaded`);
    arrays.set(spec.name, { name: spec.name, shape: spec.shape, values });
  }
  const slotNames = new Set((manifest.optimizer?.slots ?? []).map((s) => OPTIMIZER_PREFIX + s));
  let model: Sequential;
  try {
    model = Sequential.fromJSON(manifest.topology, { registry });
  } catch (error) {
    throw error instanceof BackpropError ? new BackpropError(where, error.message) : error;
  }
  try {
    if (manifest.classNames) {
      checkClassNames(manifest.classNames, model.outputShape, (detail) => {
        throw new BackpropError(where, detail);
      });
    }
    model.setWeights([...arrays.values()].filter((w) => !slotNames.has(w.name)));
    // checkManifest matched the names with the model's random layers.
    const positions = manifest.randomStreams;
    if (positions) for (const layer of model.layers) if (layer.randomStreamPosition !== undefined) layer.seekRandomStream(positions[layer.name!]);
    if (manifest.optimizer) model.optimizer = restoreOptimizer(model, manifest.optimizer, arrays, registry, dtype);
  } catch (error) {
    model.dispose();
    throw error instanceof BackpropError ? new BackpropError(where, error.message) : error;
  }
  return model;
}

function restoreOptimizer(model: Sequential, saved: NonNullable<ModelManifest['optimizer']>, arrays: Map<string, NamedArray>, registry: Registry, dtype: FloatDataType): Optimizer {
  const optimizer = registry.optimizers.create(saved.spec);
  const params = new Map(model.params().map((p) => [p.name, p.value.shape]));
  const tensors: Record<string, Tensor> = {};
  try {
    for (const slot of saved.slots) {
      const w = arrays.get(OPTIMIZER_PREFIX + slot)!;
      // checkManifest compared the slots with the planned parameters; a layer that does not declare its parameters is checked here.
      const param = slot.slice(0, slot.lastIndexOf('/'));
      const shape = params.get(param);
      if (!shape) throw new BackpropError('optimizer', `slot '${slot}' belongs to no parameter of the model`);
      if (!sameShape(w.shape, shape)) throw new BackpropError('optimizer', `slot '${slot}' has shape ${shapeToString(w.shape)} but parameter '${param}' has ${shapeToString(shape)}`);
      tensors[slot] = registry.makeTensor(w.values, w.shape, dtype);
    }
    optimizer.setState({ iterations: saved.iterations, tensors });
    return optimizer;
  } catch (error) {
    optimizer.dispose();
    throw error;
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

export const MANIFEST_FILE = 'model.json';

/**
 * Writes `dir/model.json` and `dir/weights-<crc>.bin`. Everything is checked before
 * any file is touched (a disposed model, non-finite weights or optimizer state,
 * metadata that is not JSON data). Leftover temporary files of an earlier crashed save
 * are removed, then the weights go first under a content-addressed name, then the
 * manifest replaces the old one with an atomic rename, then stale weight files are
 * removed: at every instant the directory holds a complete model (the old one or the
 * new one). A failed write (disk full, permissions, read-only file system) is a
 * BackpropError naming the file and the cause, and leaves no temporary file behind.
 */
export async function saveModel(
  model: Sequential,
  dir: string,
  options: ArtifactOptions = {},
): Promise<{ manifestPath: string; weightsPath: string }> {
  if (typeof dir !== 'string' || dir.length === 0) throw new BackpropError('saveModel', `dir must be a directory path, got ${describe(dir)}`);
  const artifacts = await toArtifactsAsync(model, options);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw fileError(dir, 'cannot create the model directory', error);
  }
  await removeStaleTemporaries(dir);
  const weightsPath = path.join(dir, artifacts.manifest.weights.file);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  await writeFileAtomic(weightsPath, new Uint8Array(artifacts.weightData));
  await writeFileAtomic(manifestPath, `${JSON.stringify(artifacts.manifest, null, 2)}\n`);
  // Best effort: the new model is complete and committed; a weights file that cannot be
  // removed now is only wasted space, removed by the next save.
  try {
    for (const name of await fs.readdir(dir)) {
      if (WEIGHTS_FILE.test(name) && name !== artifacts.manifest.weights.file) await fs.rm(path.join(dir, name), { force: true });
    }
  } catch {
    // see above
  }
  return { manifestPath, weightsPath };
}

export async function loadModel(dir: string, options: { registry?: Registry } = {}): Promise<{ model: Sequential; manifest: ModelManifest }> {
  if (typeof dir !== 'string' || dir.length === 0) throw new BackpropError('loadModel', `dir must be a directory path, got ${describe(dir)}`);
  if (!isPlainObject(options)) throw new BackpropError('loadModel', `options must be an object, got ${describe(options)}`);
  const registry = options.registry ?? defaultRegistry;
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new BackpropError(manifestPath, `cannot read the model manifest (${errorCode(error)}); is '${dir}' a saved model directory?`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BackpropError(manifestPath, `is not valid JSON (${(error as Error).message})`);
  }
  // The whole manifest is checked before the weights file is opened; its name is then
  // known to be 'weights-<8 hex>.bin', so it cannot point outside the directory.
  const manifest = checkManifest(parsed, registry, manifestPath);
  const weightsPath = path.join(dir, manifest.weights.file);
  let data: Buffer;
  try {
    const size = (await fs.stat(weightsPath)).size;
    if (size !== manifest.weights.byteLength) {
      throw new BackpropError(weightsPath, `weights are ${size} bytes but the manifest expects ${manifest.weights.byteLength} (truncated or wrong file)`);
    }
    data = await fs.readFile(weightsPath);
  } catch (error) {
    if (error instanceof BackpropError) throw error;
    throw new BackpropError(weightsPath, `cannot read the weights (${errorCode(error)})`);
  }
  const model = restore(manifest, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), registry, weightsPath);
  const { checked: _, ...plain } = manifest;
  return { model, manifest: plain };
}

// The temporary files writeFileAtomic (@backprop/tensor/node) writes for model.json and the weights.
const TMP_FILE = /^(?:model\.json|weights-[0-9a-f]{8}\.bin)\.(\d+)\.[0-9a-z]+\.tmp$/;

/**
 * Removes temporary files of earlier saves into `dir` that crashed before renaming
 * them: only names this module writes, and only those whose writer is no longer
 * running (or that are over a day old, should the pid have been reused), so a
 * concurrent save's file is left alone. Best effort: a file that cannot be removed stays.
 */
async function removeStaleTemporaries(dir: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = TMP_FILE.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    try {
      const pid = Number(match[1]);
      const old = Date.now() - (await fs.stat(file)).mtimeMs > 24 * 3600 * 1000;
      if (old || (pid !== process.pid && !processAlive(pid))) await fs.rm(file, { force: true });
    } catch {
      // Best effort, see above.
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);
}

/**
 * Checks that `value` is JSON data (plain objects, arrays, strings, finite numbers,
 * booleans, null; objects with toJSON such as Date become what toJSON returns) and
 * returns the copy JSON would store, so what is in memory is exactly what is saved.
 */
function toJSONData(where: string, what: string, value: unknown): Record<string, unknown> {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      // JSON would write NaN and ±Infinity as null: refuse rather than change the data.
      if (!Number.isFinite(v)) throw new BackpropError(where, `${at} is ${v}; only finite numbers can be saved`);
      return v;
    }
    if (typeof v === 'object') {
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return walk((v as { toJSON(): unknown }).toJSON(), at);
      if (seen.has(v)) throw new BackpropError(where, `${at} refers to itself; ${what} must be JSON data`);
      const proto = Object.getPrototypeOf(v);
      if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) {
        throw new BackpropError(where, `${at} is a ${(v as object).constructor?.name ?? 'non-plain object'}; ${what} must be JSON data (plain objects, arrays, strings, finite numbers, booleans, null)`);
      }
      seen.add(v);
      const out = Array.isArray(v)
        ? v.map((x, i) => (x === undefined ? null : walk(x, `${at}[${i}]`)))
        : Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, walk(x, `${at}.${k}`)]));
      seen.delete(v);
      return out;
    }
    throw new BackpropError(where, `${at} is a ${typeof v}; ${what} must be JSON data`);
  };
  if (!isPlainObject(value)) throw new BackpropError(where, `${what} must be an object, got ${describe(value)}`);
  return walk(value, what) as Record<string, unknown>;
}

function describeSpec(name: string): string {
  return name.startsWith(OPTIMIZER_PREFIX) ? `optimizer slot '${name.slice(OPTIMIZER_PREFIX.length)}'` : `weight '${name}'`;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** CRC-32 (IEEE), the checksum of zip and PNG: tensor's, re-exported where the model format names it. */
export { crc32 };
