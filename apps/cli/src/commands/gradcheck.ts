import { gradCheck } from '@backprop/layers';
import { createRandom, type Registry } from '@backprop/tensor';
import { type Command, Option } from 'commander';
import { checkFits, inputsOf, labelsOf, loadData } from '../data.js';
import { CliError, EXIT, integer, nonNegative, positiveInt, positiveNumber } from '../errors.js';
import { buildModel, modelSpec, PRESET_NAMES } from '../model.js';
import { backendOptions, jsonOption, printJson } from '../options.js';
import { selectBackend } from '../setup.js';
import { DATA_HELP } from '../data.js';

interface GradcheckFlags {
  model: string;
  samples: number;
  checks: number;
  threshold: number;
  seed: number;
  biasJitter: number;
  data?: string;
  backend: string;
  gpujsMode?: string;
  json: boolean;
}

export function configureGradcheck(command: Command, registry: Registry): Command {
  command
    .description("check the model's backpropagated gradients against central finite differences (float64) on real MNIST images")
    .addOption(new Option('--model <spec>', `${PRESET_NAMES.join(' | ')} | path to a Sequential.toJSON() .json file`).argParser(modelSpec).default('paper'))
    .option('--samples <n>', 'number of MNIST training images in the batch', positiveInt, 4)
    .option('--checks <n>', 'elements checked per parameter tensor (sampled; all when the tensor is smaller)', positiveInt, 40)
    .option('--threshold <e>', 'PASS when every max relative error is below this', positiveNumber, 1e-6)
    .option('--seed <n>', 'seed of the weight initialisation and the bias jitter', integer, 1)
    .option('--bias-jitter <a>', 'draw every bias from U(−a, a) before checking; 0 checks the zero-bias initial model as is', nonNegative, 0.1)
    .option('--data <dir>', DATA_HELP);
  backendOptions(command, 'cpu');
  jsonOption(command);
  command.addHelpText(
    'after',
    '\nRelative error per element: |numerical − analytic| / max(1, |analytic|); exits with code 1 on FAIL.\n' +
      'Biases start at zero, so on MNIST\'s blank borders a conv unit\'s pre-activation is exactly 0 — the\n' +
      'ReLU kink, where the derivative is undefined and finite differences disagree with any one-sided\n' +
      'gradient. --bias-jitter (default 0.1) moves the check to a generic point off the kinks.\n\nExamples:\n  backprop gradcheck\n  backprop gradcheck --model lenet --samples 2 --checks 10',
  );
  return command.action(async (flags: GradcheckFlags) => {
    await selectBackend(registry, flags);
    const built = await buildModel(flags.model, registry, flags.seed);
    const { train } = await loadData({ dir: flags.data, limit: flags.samples, testLimit: 1 });
    checkFits(train, built.model.inputShape, 'gradcheck data');
    if (flags.biasJitter > 0) {
      const rng = createRandom(flags.seed);
      const a = flags.biasJitter;
      built.model.setWeights(built.model.getWeights().map((w) => (w.name.endsWith('/bias') ? { ...w, values: w.values.map(() => rng.uniform(-a, a)) } : w)));
    }
    const started = performance.now();
    let result: ReturnType<typeof gradCheck>;
    try {
      result = gradCheck(built.model, inputsOf(train), labelsOf(train), built.loss, { maxChecksPerTensor: flags.checks });
    } catch (error) {
      throw new CliError((error as Error).message);
    } finally {
      built.model.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    const entries = Object.entries(result);
    const worst = Math.max(0, ...entries.map(([, e]) => e.maxRelativeError));
    const pass = worst < flags.threshold;
    if (flags.json) {
      printJson({ model: flags.model, samples: train.count, biasJitter: flags.biasJitter, threshold: flags.threshold, pass, maxRelativeError: worst, params: result, seconds });
    } else {
      const width = Math.max(9, ...entries.map(([name]) => name.length)) + 2;
      const lines = [
        `gradient check of ${flags.model} (loss ${built.loss.name}) on ${train.count} MNIST images, float64, bias jitter ${flags.biasJitter}, threshold ${flags.threshold}`,
        `${'parameter'.padEnd(width)}${'max rel. error'.padStart(16)}${'checked'.padStart(16)}  result`,
        ...entries.map(
          ([name, e]) =>
            `${name.padEnd(width)}${e.maxRelativeError.toExponential(3).padStart(16)}${`${e.checked}/${e.size}`.padStart(16)}  ${e.maxRelativeError < flags.threshold ? 'PASS' : 'FAIL'}`,
        ),
        `${pass ? 'PASS' : 'FAIL'}: max relative error ${worst.toExponential(3)} ${pass ? '<' : '≥'} ${flags.threshold} (${seconds.toFixed(1)}s)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!pass) process.exitCode = EXIT.failure;
  });
}
