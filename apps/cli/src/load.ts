import { statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, type ModelManifest, type Sequential } from '@backprop/layers';
import { fromOnnx, loadTfjsLayers } from '@backprop/onnx';
import type { ComponentJSON, Registry } from '@backprop/tensor';
import { CliError, UsageError } from './errors.js';
import { InvalidArgumentError } from 'commander';
import { defaultLoss, modelSpec, PRESET_NAMES } from './model.js';

/** Loads a saved model directory; a missing or corrupt one is a one-line CliError naming the file. */
export async function loadModelDir(dir: string, registry: Registry): Promise<{ model: Sequential; manifest: ModelManifest; loss: ComponentJSON }> {
  let loaded: Awaited<ReturnType<typeof loadModel>>;
  try {
    loaded = await loadModel(dir, { registry });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const args = loaded.manifest.metadata?.args as { loss?: ComponentJSON } | undefined;
  return { ...loaded, loss: args?.loss ?? defaultLoss(loaded.model) };
}

/** Whether a path names an ONNX file (by its extension). */
export const isOnnxPath = (path: string): boolean => /\.onnx$/i.test(path);

/** What a model path holds: a saved Backprop model directory, an ONNX file, or a TF.js Layers model directory. */
export type ModelFormat = 'backprop' | 'onnx' | 'tfjs';

/** Whether `path` names an existing directory (for option parsers, which run before any command). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Tells the three model formats apart: a `.onnx` path (or any other file) is ONNX; a
 * directory is a saved Backprop model or a TF.js Layers model, both of which hold a
 * `model.json` — TF.js's has `modelTopology`, Backprop's a `topology`. A directory without
 * a `model.json` is a CliError naming the file it looked for.
 */
export async function detectModelFormat(path: string): Promise<ModelFormat> {
  if (isOnnxPath(path)) return 'onnx';
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    return 'backprop'; // nothing there: the model directory's loader names the model.json it looked for
  }
  if (!isDir) return 'onnx';
  const manifest = join(path, 'model.json');
  let text: string;
  try {
    text = await readFile(manifest, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError(`${manifest}: not found; ${path} is neither a saved Backprop model nor a TF.js Layers model directory (both hold a model.json), and not an .onnx file`);
    }
    throw new CliError(`${manifest}: cannot be read (${code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'backprop'; // the Backprop loader reports the corrupt file, naming it
  }
  return json !== null && typeof json === 'object' && 'modelTopology' in json ? 'tfjs' : 'backprop';
}

export interface ImportedOnnx {
  model: Sequential;
  /** The `class_names` metadata entry, when the file has one. */
  classNames: string[] | undefined;
  metadata: Record<string, string>;
}

/**
 * Reads an ONNX file with `fromOnnx`. An unreadable file or one `fromOnnx` refuses is a
 * one-line CliError (exit code 1) naming the file, with the library's message.
 */
export async function loadOnnxFile(file: string, registry: Registry): Promise<ImportedOnnx> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: cannot be read (${code ?? (error as Error).message})`);
  }
  try {
    return fromOnnx(bytes, { registry });
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
}

/**
 * Reads a TF.js Layers model directory (model.json and its weight shards) with
 * `loadTfjsLayers`; a refusal is a one-line CliError naming the directory (the library's
 * message names the file or the layer).
 */
export async function loadTfjsDir(dir: string, registry: Registry): Promise<Sequential> {
  try {
    return (await loadTfjsLayers(dir, { registry })).model;
  } catch (error) {
    throw new CliError(`${dir}: ${(error as Error).message}`);
  }
}

/** A model for evaluate / predict / summary / train: a saved model directory, an imported ONNX file or TF.js Layers model. */
export interface LoadedModel {
  model: Sequential;
  /** The loss: the saved run's, else the default for the model's head (ONNX and TF.js files record none Backprop reads). */
  loss: ComponentJSON;
  /** Whether the loss was stored with the model (false: the default for its head). */
  lossStored: boolean;
  /** Class names to show (ONNX `class_names` metadata), when known; otherwise the class index is shown. */
  classNames: string[] | undefined;
  /** What was loaded, for messages and --json (the directory or the .onnx file). */
  path: string;
  format: ModelFormat;
  /** The ONNX file's metadata (empty for the other formats). */
  metadata: Record<string, string>;
  /** The optimizer a saved Backprop run trained with, when its metadata records one. */
  optimizer?: ComponentJSON;
}

/** What the formats are called in messages. */
export const FORMAT_NAMES: Record<ModelFormat, string> = { backprop: 'saved Backprop model', onnx: 'ONNX file', tfjs: 'TF.js Layers model' };

/** Loads a model path in any of the three formats (see detectModelFormat). */
export async function loadAnyModel(path: string, registry: Registry): Promise<LoadedModel> {
  const format = await detectModelFormat(path);
  if (format === 'onnx') {
    const { model, classNames, metadata } = await loadOnnxFile(path, registry);
    return { model, loss: defaultLoss(model), lossStored: false, classNames, path, format, metadata };
  }
  if (format === 'tfjs') {
    const model = await loadTfjsDir(path, registry);
    return { model, loss: defaultLoss(model), lossStored: false, classNames: undefined, path, format, metadata: {} };
  }
  const { model, loss, manifest } = await loadModelDir(path, registry);
  const args = manifest.metadata?.args as { loss?: ComponentJSON; optimizer?: ComponentJSON } | undefined;
  return { model, loss, lossStored: args?.loss !== undefined, classNames: manifest.classNames, path, format, metadata: {}, optimizer: args?.optimizer };
}

/**
 * Loads `--model <path>` or `--model-dir <path>` (exactly one; both take any of the formats:
 * a saved model directory, an `.onnx` file, a TF.js Layers model directory).
 */
export async function loadModelFlags(flags: { model?: string; modelDir?: string }, registry: Registry): Promise<LoadedModel> {
  if (flags.model !== undefined && flags.modelDir !== undefined) throw new UsageError('pass either --model <path> or --model-dir <path>, not both');
  const path = flags.model ?? flags.modelDir;
  if (path === undefined) throw new UsageError('a model is required: --model-dir <dir> (a saved model or a TF.js Layers model directory) or --model <file.onnx>');
  return loadAnyModel(path, registry);
}

/** Whether a --model value names a model to load (an .onnx file or a model directory) rather than one to build. */
export const isModelPath = (value: string): boolean =>
  !(PRESET_NAMES as string[]).includes(value) && !/\.json$/i.test(value) && (isOnnxPath(value) || isDirectory(value));

/** `--model` for summary and train: what a new run builds from (a preset, a .json topology), or a model to load. */
export function modelOrPathSpec(value: string): string {
  if (isModelPath(value)) return value;
  try {
    return modelSpec(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message.replace(/\.$/, '')}, an ONNX file (.onnx), or a model directory (saved by Backprop, or a TF.js Layers model.json + shards).`);
  }
}
