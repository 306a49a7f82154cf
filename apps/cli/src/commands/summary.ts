import type { Registry } from '@backprop/tensor';
import { type Command, Option } from 'commander';
import { FORMAT_NAMES, isModelPath, loadAnyModel, modelOrPathSpec } from '../load.js';
import { buildModel, PRESET_NAMES } from '../model.js';

export function configureSummary(command: Command, registry: Registry): Command {
  return command
    .description('print the layers, output shapes and parameter counts of a model')
    .addOption(
      new Option('--model <spec>', `${PRESET_NAMES.join(' | ')} | path to a Sequential.toJSON() .json file | an ONNX file (.onnx) | a saved model or TF.js Layers model directory`)
        .argParser(modelOrPathSpec)
        .default('paper'),
    )
    .addHelpText('after', '\nExamples:\n  backprop summary --model lenet\n  backprop summary --model my-model.json\n  backprop summary --model model.onnx\n  backprop summary --model tfjs-model/')
    .action(async (flags: { model: string }) => {
      if (isModelPath(flags.model)) {
        const { model, classNames, metadata, format, loss, lossStored } = await loadAnyModel(flags.model, registry);
        const lines = [
          model.summary(),
          format === 'backprop'
            ? `Description: ${model.name} loaded from ${flags.model}`
            : `Description: ${model.name} imported from the ${FORMAT_NAMES[format]} ${flags.model}${metadata.backprop_version ? ` (exported by Backprop ${metadata.backprop_version})` : ''}`,
        ];
        if (format === 'onnx') lines.push(`Classes: ${classNames ? classNames.join(', ') : 'no class_names metadata'}`, 'Loss, optimizer: none stored in an ONNX file');
        else if (format === 'tfjs') lines.push(`Input: [${model.inputShape.join(', ')}] (NCHW, as every Backprop model; the TF.js kernels and the Dense after Flatten are converted to it)`, `Loss: ${loss.name}, the default for its head (a TF.js model's training config is not read)`);
        else lines.push(`Loss: ${loss.name}${lossStored ? ' (the saved run\'s)' : ', the default for its head'}`);
        model.dispose();
        process.stdout.write(`${lines.join('\n')}\n`);
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
