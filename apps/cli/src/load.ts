import { readFile } from 'node:fs/promises';
import { loadModel, type ModelManifest, type Sequential } from '@backprop/layers';
import { fromOnnx } from '@backprop/onnx';
import type { ComponentJSON, Registry } from '@backprop/tensor';
import { CliError, UsageError } from './errors.js';
import { defaultLoss } from './model.js';

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

/** A model for evaluate / predict: a saved model directory or an imported ONNX file. */
export interface LoadedModel {
  model: Sequential;
  /** The loss: the saved run's, else the default for the model's head (an ONNX file records none). */
  loss: ComponentJSON;
  /** Whether the loss was stored with the model (false: the default for its head). */
  lossStored: boolean;
  /** Class names to show (ONNX `class_names` metadata), when known; otherwise the class index is shown. */
  classNames: string[] | undefined;
  /** What was loaded, for messages and --json (the directory or the .onnx file). */
  path: string;
  format: 'backprop' | 'onnx';
}

/**
 * Loads `--model <file.onnx>` or `--model-dir <dir>` (exactly one; a `--model-dir` that
 * names a `.onnx` file is read as ONNX too).
 */
export async function loadModelFlags(flags: { model?: string; modelDir?: string }, registry: Registry): Promise<LoadedModel> {
  if (flags.model !== undefined && flags.modelDir !== undefined) throw new UsageError('pass either --model <file.onnx> or --model-dir <dir>, not both');
  const path = flags.model ?? flags.modelDir;
  if (path === undefined) throw new UsageError('a model is required: --model-dir <dir> (a saved model) or --model <file.onnx> (an ONNX file)');
  if (flags.model !== undefined || isOnnxPath(path)) {
    const { model, classNames } = await loadOnnxFile(path, registry);
    return { model, loss: defaultLoss(model), lossStored: false, classNames, path, format: 'onnx' };
  }
  const { model, loss, manifest } = await loadModelDir(path, registry);
  const args = manifest.metadata?.args as { loss?: ComponentJSON } | undefined;
  return { model, loss, lossStored: args?.loss !== undefined, classNames: undefined, path, format: 'backprop' };
}
