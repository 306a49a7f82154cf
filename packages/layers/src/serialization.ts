import { BackpropError, type ComponentJSON, defaultRegistry, type Registry, type Tensor } from '@backprop/tensor';
import { checkModelJSON, type ModelJSON, type NamedArray, Sequential } from './sequential.js';

/**
 * The saved form of a model, the same in Node and in the browser:
 * `manifest` (JSON: topology, weight specs, checksum, optimizer, metadata) and
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
    /** File holding weightData when saved to a directory. */
    file: string;
    byteLength: number;
    /** CRC-32 of weightData, 8 hex digits. */
    crc32: string;
    specs: WeightSpec[];
  };
  optimizer?: { spec: ComponentJSON; iterations: number; slots: string[] };
  /** Free-form JSON the caller stores with the model (e.g. the CLI's training state). */
  metadata?: Record<string, unknown>;
  savedAt: string;
  library: string;
}

const OPTIMIZER_PREFIX = 'optimizer:';

type ArtifactOptions = { includeOptimizer?: boolean; metadata?: Record<string, unknown> };

/** The model (and, by default, its optimizer state) as artifacts, read synchronously; see `toArtifactsAsync`. */
export function toArtifacts(model: Sequential, options: ArtifactOptions = {}): ModelArtifacts {
  const { tensors, optimizer } = collect(model, options);
  return pack(model, tensors.map((w) => ({ ...w, values: w.tensor.dataSync() as Float32Array | Float64Array })), optimizer, options);
}

/** `toArtifacts` reading the weights with `await data()`: works on every backend (WebGPU included). */
export async function toArtifactsAsync(model: Sequential, options: ArtifactOptions = {}): Promise<ModelArtifacts> {
  const { tensors, optimizer } = collect(model, options);
  const values = await Promise.all(tensors.map((w) => w.tensor.data()));
  return pack(model, tensors.map((w, i) => ({ name: w.name, shape: w.shape, values: values[i] as Float32Array | Float64Array })), optimizer, options);
}

/** Every tensor to save (weights, then optimizer slots), in order. */
function collect(model: Sequential, options: ArtifactOptions): { tensors: { name: string; shape: number[]; tensor: Tensor }[]; optimizer: ModelManifest['optimizer'] } {
  const tensors = model.params().map((p) => ({ name: p.name, shape: [...p.value.shape], tensor: p.value }));
  let optimizer: ModelManifest['optimizer'];
  if ((options.includeOptimizer ?? true) && model.optimizer) {
    const state = model.optimizer.getState();
    const slots = Object.keys(state.tensors).sort();
    for (const slot of slots) {
      const t: Tensor = state.tensors[slot];
      tensors.push({ name: OPTIMIZER_PREFIX + slot, shape: [...t.shape], tensor: t });
    }
    optimizer = { spec: { name: model.optimizer.name, config: model.optimizer.getConfig() }, iterations: state.iterations, slots };
  }
  return { tensors, optimizer };
}

function pack(model: Sequential, named: NamedArray[], optimizer: ModelManifest['optimizer'], options: ArtifactOptions): ModelArtifacts {
  const specs: WeightSpec[] = [];
  let byteLength = 0;
  for (const w of named) {
    const dtype = w.values instanceof Float64Array ? 'float64' : 'float32';
    // Keep every float64 tensor 8-byte aligned so it can be viewed in place.
    if (dtype === 'float64') byteLength = Math.ceil(byteLength / 8) * 8;
    specs.push({ name: w.name, shape: [...w.shape], dtype, offset: byteLength });
    byteLength += w.values.byteLength;
  }
  const bytes = new Uint8Array(byteLength);
  named.forEach((w, i) => bytes.set(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength), specs[i].offset));
  const crc = crc32(bytes).toString(16).padStart(8, '0');
  return {
    manifest: {
      topology: model.toJSON(),
      weights: { file: `weights-${crc}.bin`, byteLength, crc32: crc, specs },
      optimizer,
      metadata: options.metadata,
      savedAt: new Date().toISOString(),
      library: '@backprop/layers',
    },
    weightData: bytes.buffer,
  };
}

/**
 * Rebuilds a model from artifacts. The checksum, every spec and every shape are
 * checked before a single weight is set: a corrupt or mismatched file is rejected
 * whole.
 */
export function fromArtifacts(artifacts: ModelArtifacts, options: { registry?: Registry; source?: string } = {}): Sequential {
  const registry = options.registry ?? defaultRegistry;
  const where = options.source ?? 'model';
  const { manifest, weightData } = artifacts;
  if (!manifest || typeof manifest !== 'object' || !manifest.weights || !manifest.topology) {
    throw new BackpropError(where, 'not a Backprop model manifest (missing topology or weights)');
  }
  let topology: ModelJSON;
  try {
    topology = checkModelJSON(manifest.topology);
  } catch (error) {
    throw new BackpropError(where, (error as Error).message);
  }
  const bytes = new Uint8Array(weightData);
  if (bytes.byteLength !== manifest.weights.byteLength) {
    throw new BackpropError(
      where,
      `weights are ${bytes.byteLength} bytes but the manifest expects ${manifest.weights.byteLength} (truncated or wrong file)`,
    );
  }
  const crc = crc32(bytes).toString(16).padStart(8, '0');
  if (crc !== manifest.weights.crc32) {
    throw new BackpropError(where, `weights checksum mismatch (crc32 ${crc}, manifest says ${manifest.weights.crc32}): the file is corrupt`);
  }
  const arrays = new Map<string, NamedArray>();
  for (const spec of manifest.weights.specs) {
    const count = spec.shape.reduce((p, d) => p * d, 1);
    const size = spec.dtype === 'float64' ? 8 : 4;
    if (spec.offset + count * size > bytes.byteLength) throw new BackpropError(where, `weight '${spec.name}' runs past the end of the data`);
    const copy = bytes.slice(spec.offset, spec.offset + count * size).buffer;
    const values = spec.dtype === 'float64' ? new Float64Array(copy) : new Float32Array(copy);
    arrays.set(spec.name, { name: spec.name, shape: spec.shape, values });
  }
  const model = Sequential.fromJSON(topology, { registry });
  try {
    model.setWeights([...arrays.values()].filter((w) => !w.name.startsWith(OPTIMIZER_PREFIX)));
    if (manifest.optimizer) {
      const optimizer = registry.optimizers.get(manifest.optimizer.spec.name)(manifest.optimizer.spec.config);
      const tensors: Record<string, Tensor> = {};
      for (const slot of manifest.optimizer.slots) {
        const w = arrays.get(OPTIMIZER_PREFIX + slot);
        if (!w) throw new BackpropError(where, `optimizer slot '${slot}' is missing from the weights`);
        tensors[slot] = registry.makeTensor(w.values, w.shape, w.values instanceof Float64Array ? 'float64' : 'float32');
      }
      try {
        optimizer.setState({ iterations: manifest.optimizer.iterations, tensors });
      } finally {
        for (const t of Object.values(tensors)) t.dispose();
      }
      model.optimizer = optimizer;
    }
  } catch (error) {
    model.dispose();
    throw error instanceof BackpropError ? new BackpropError(where, error.message) : error;
  }
  return model;
}

export const MANIFEST_FILE = 'model.json';

/**
 * Writes `dir/model.json` and `dir/weights-<crc>.bin`. The weights go first under a
 * content-addressed name, then the manifest replaces the old one with an atomic
 * rename, then stale weight files are removed: at every instant the directory
 * holds a complete model (the old one or the new one).
 */
export async function saveModel(
  model: Sequential,
  dir: string,
  options: { includeOptimizer?: boolean; metadata?: Record<string, unknown> } = {},
): Promise<{ manifestPath: string; weightsPath: string }> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const artifacts = await toArtifactsAsync(model, options);
  await fs.mkdir(dir, { recursive: true });
  const weightsPath = path.join(dir, artifacts.manifest.weights.file);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  await writeFileAtomic(weightsPath, new Uint8Array(artifacts.weightData));
  await writeFileAtomic(manifestPath, `${JSON.stringify(artifacts.manifest, null, 2)}\n`);
  for (const name of await fs.readdir(dir)) {
    if (/^weights-[0-9a-f]{8}\.bin$/.test(name) && name !== artifacts.manifest.weights.file) {
      await fs.rm(path.join(dir, name), { force: true });
    }
  }
  return { manifestPath, weightsPath };
}

export async function loadModel(dir: string, options: { registry?: Registry } = {}): Promise<{ model: Sequential; manifest: ModelManifest }> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new BackpropError(manifestPath, `cannot read the model manifest (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is '${dir}' a saved model directory?`);
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (error) {
    throw new BackpropError(manifestPath, `is not valid JSON (${(error as Error).message})`);
  }
  if (!manifest?.weights?.file || !/^weights-[0-9a-f]{8}\.bin$/.test(manifest.weights.file)) {
    throw new BackpropError(manifestPath, 'is not a Backprop model manifest (no weights file named)');
  }
  const weightsPath = path.join(dir, manifest.weights.file);
  let data: Buffer;
  try {
    data = await fs.readFile(weightsPath);
  } catch (error) {
    throw new BackpropError(weightsPath, `cannot read the weights (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const model = fromArtifacts({ manifest, weightData }, { registry: options.registry, source: dir });
  return { model, manifest };
}

/** Writes to a temporary file in the same directory, flushes it, then renames it into place. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), the checksum of zip and PNG. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
