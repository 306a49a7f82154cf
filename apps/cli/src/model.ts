import { readFile } from 'node:fs/promises';
import { PRESETS, type PresetName, Sequential } from '@backprop/layers';
import type { ComponentJSON, Registry } from '@backprop/tensor';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.js';

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** MNIST's class names, the digits '0'…'9': what `backprop export` writes for a model with 10 outputs and no saved names. */
export const DIGIT_CLASS_NAMES: readonly string[] = Array.from({ length: 10 }, (_, i) => String(i));

/**
 * The ONNX metadata entry `backprop export` writes for a model trained on an image folder:
 * `predict` then prepares each image as the folder's were (decoded, converted, resized
 * bilinearly to the input), not as an MNIST digit. A saved model says the same by recording
 * class names; an ONNX file's class names alone do not (an MNIST model may carry any names).
 */
export const ONNX_PREPARATION_KEY = 'backprop_image_preparation';
export const FOLDER_PREPARATION = 'image-folder: decoded, converted to the input channels, resized bilinearly';

/** The optimizer of a model that names none (a .json topology without one, an imported model). */
export const DEFAULT_OPTIMIZER: ComponentJSON = { name: 'adam', config: { learningRate: 0.001 } };

/** `--model` parser: a preset name or a path to a `.json` topology file. */
export function modelSpec(value: string): string {
  if ((PRESET_NAMES as string[]).includes(value) || /\.json$/i.test(value)) return value;
  throw new InvalidArgumentError(`expected one of ${PRESET_NAMES.join(', ')} or a path to a model .json file (Sequential.toJSON(), optionally with "loss" and "optimizer").`);
}

export interface BuiltModel {
  model: Sequential;
  loss: ComponentJSON;
  optimizer: ComponentJSON;
  description: string;
  /** Short name for run directories: the preset or the JSON file's base name. */
  label: string;
}

/**
 * Builds the model named by `--model`: a preset (with its loss and optimizer) or a
 * JSON file holding `Sequential.toJSON()` — either the topology itself, optionally
 * with top-level "loss" and "optimizer", or `{ "model": topology, "loss", "optimizer" }`.
 */
export async function buildModel(spec: string, registry: Registry, seed: number | undefined, shape?: { inputShape: number[]; classes: number }): Promise<BuiltModel> {
  if ((PRESET_NAMES as string[]).includes(spec)) {
    // A preset takes the data's shape when given (an image folder's images and classes), MNIST's otherwise.
    const preset = PRESETS[spec as PresetName]({ registry, seed, ...shape });
    return { ...preset, label: spec };
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(spec, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${spec}: ${code ? `cannot be read (${code})` : `is not valid JSON (${(error as Error).message})`}`);
  }
  if (!json || typeof json !== 'object') throw new CliError(`${spec}: expected a JSON object`);
  const topology = (json.model && typeof json.model === 'object' ? json.model : json) as Record<string, unknown>;
  let model: Sequential;
  try {
    model = Sequential.fromJSON(seed === undefined ? topology : { ...topology, seed }, { registry });
  } catch (error) {
    throw new CliError(`${spec}: ${(error as Error).message}`);
  }
  const label = spec.replace(/^.*[\\/]/, '').replace(/\.json$/i, '') || 'model';
  return {
    model,
    loss: component(json.loss, defaultLoss(model), spec, 'loss'),
    optimizer: component(json.optimizer, DEFAULT_OPTIMIZER, spec, 'optimizer'),
    description: `${model.name} from ${spec}`,
    label,
  };
}

function component(value: unknown, fallback: ComponentJSON, file: string, what: string): ComponentJSON {
  if (value === undefined) return fallback;
  if (typeof value === 'string') return { name: value, config: {} };
  if (value && typeof value === 'object' && typeof (value as ComponentJSON).name === 'string') {
    return { name: (value as ComponentJSON).name, config: (value as ComponentJSON).config ?? {} };
  }
  throw new CliError(`${file}: "${what}" must be a name or { "name", "config" }`);
}

/** The natural loss for a model's output activation. */
export function defaultLoss(model: Sequential): ComponentJSON {
  const activation = model.layers[model.layers.length - 1].outputActivation;
  if (activation === 'softmax') return { name: 'categoricalCrossentropy', config: {} };
  if (activation === 'sigmoid') return { name: 'binaryCrossentropy', config: {} };
  return { name: 'softmaxCrossEntropyFromLogits', config: {} };
}

/** The output head, which decides how outputs become class probabilities. */
export type Head = 'softmax' | 'sigmoid' | 'logits';

export function headOf(model: Sequential): Head {
  const activation = model.layers[model.layers.length - 1].outputActivation;
  return activation === 'softmax' ? 'softmax' : activation === 'sigmoid' ? 'sigmoid' : 'logits';
}

/**
 * Class probabilities from one row of outputs: softmax outputs as they are, sigmoid
 * outputs normalised to sum 1 (a multi-label head), raw logits through a softmax.
 */
export function probabilities(row: ArrayLike<number>, head: Head): number[] {
  const values = Array.from(row);
  if (head === 'softmax') return values;
  if (head === 'sigmoid') {
    const sum = values.reduce((a, b) => a + b, 0);
    return sum > 0 ? values.map((v) => v / sum) : values.map(() => 1 / values.length);
  }
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function argMax(row: ArrayLike<number>, from = 0, k = row.length): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (row[from + j] > row[from + best]) best = j;
  return best;
}
