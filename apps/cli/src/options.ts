import { type Command, Option } from 'commander';
import { DATA_HELP } from './data.js';
import { positiveInt } from './errors.js';
import { BACKENDS, DEFAULT_BACKEND, DEFAULT_BACKEND_HELP } from './setup.js';

/**
 * --backend and --gpujs-mode, shared by every command that runs a model. The default is the
 * fastest backend that runs here (`defaultBackend`: 'cpu' for gradcheck, which computes in float64).
 */
export function backendOptions(command: Command, defaultBackend: 'cpu' | typeof DEFAULT_BACKEND = DEFAULT_BACKEND): Command {
  const backend = new Option('--backend <name>', 'compute backend').choices([...BACKENDS]);
  return command
    .addOption(defaultBackend === 'cpu' ? backend.default('cpu') : backend.default(DEFAULT_BACKEND, DEFAULT_BACKEND_HELP))
    .addOption(
      new Option('--gpujs-mode <mode>', 'gpu.js mode for --backend gpujs (auto tries headlessgl, webgl2, webgl, webasm, cpu)')
        .choices(['auto', 'webgl2', 'webgl', 'webgpu', 'headlessgl', 'webasm', 'cpu'])
        .default('auto'),
    );
}

/** --data and --limit / --test-limit. */
export function dataOptions(command: Command, which: 'train' | 'test'): Command {
  command.option('--data <dir>', DATA_HELP);
  if (which === 'train') {
    command
      .option('--limit <n>', 'train on the first N training images (default: all 60,000)', positiveInt)
      .option('--test-limit <n>', 'evaluate on the first N test images (default: all 10,000)', positiveInt);
  } else {
    command.option('--limit <n>', 'use the first N test images (default: all 10,000); of an image folder, N images drawn at random (seeded: the same N every time)', positiveInt);
  }
  return command;
}

export function jsonOption(command: Command): Command {
  return command.option('--json', 'print one JSON object on stdout instead of text', false);
}

/** Whether an option was given on the command line (not a default). */
export function isExplicit(command: Command, key: string): boolean {
  return command.getOptionValueSource(key) === 'cli';
}

/** Prints `value` as the single JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export const percent = (v: number): string => `${(v * 100).toFixed(2)}%`;
