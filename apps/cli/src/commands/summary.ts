import type { Registry } from '@backprop/tensor';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { isOnnxPath, loadOnnxFile } from '../load.js';
import { buildModel, modelSpec, PRESET_NAMES } from '../model.js';

/** `--model` for summary: what train accepts, or an ONNX file. */
function summarySpec(value: string): string {
  if (isOnnxPath(value)) return value;
  try {
    return modelSpec(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message.replace(/\.$/, '')}, or an ONNX file (.onnx).`);
  }
}

export function configureSummary(command: Command, registry: Registry): Command {
  return command
    .description('print the layers, output shapes and parameter counts of a model')
    .addOption(new Option('--model <spec>', `${PRESET_NAMES.join(' | ')} | path to a Sequential.toJSON() .json file | path to an ONNX file (.onnx)`).argParser(summarySpec).default('paper'))
    .addHelpText('after', '\nExamples:\n  backprop summary --model lenet\n  backprop summary --model my-model.json\n  backprop summary --model model.onnx')
    .action(async (flags: { model: string }) => {
      if (isOnnxPath(flags.model)) {
        const { model, classNames, metadata } = await loadOnnxFile(flags.model, registry);
        const text = [
          model.summary(),
          `Description: ${model.name} imported from the ONNX file ${flags.model}${metadata.backprop_version ? ` (exported by Backprop ${metadata.backprop_version})` : ''}`,
          `Classes: ${classNames ? classNames.join(', ') : 'no class_names metadata'}`,
          'Loss, optimizer: none stored in an ONNX file',
        ].join('\n');
        model.dispose();
        process.stdout.write(`${text}\n`);
        return;
      }
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
