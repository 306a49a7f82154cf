import type { Registry } from '@backprop/tensor';
import { type Command, Option } from 'commander';
import { buildModel, modelSpec, PRESET_NAMES } from '../model.js';

export function configureSummary(command: Command, registry: Registry): Command {
  return command
    .description('print the layers, output shapes and parameter counts of a model')
    .addOption(new Option('--model <spec>', `${PRESET_NAMES.join(' | ')} | path to a Sequential.toJSON() .json file`).argParser(modelSpec).default('paper'))
    .addHelpText('after', '\nExamples:\n  backprop summary --model lenet\n  backprop summary --model my-model.json')
    .action(async (flags: { model: string }) => {
      const built = await buildModel(flags.model, registry, undefined);
      const text = [
        built.model.summary(),
        `Description: ${built.description}`,
        `Loss: ${built.loss.name} ${JSON.stringify(built.loss.config)}`,
        `Optimizer: ${built.optimizer.name} ${JSON.stringify(built.optimizer.config)}`,
      ].join('\n');
      built.model.dispose();
      process.stdout.write(`${text}\n`);
    });
}
