import type { Registry } from '@backprop/tensor';
import type { Command } from 'commander';
import { checkFits, classesOf, detectData, loadData, openFolderForModel } from '../data.js';
import { CliError } from '../errors.js';
import { evaluateFolder, evaluateSet, type SetEvaluation } from '../evaluation.js';
import { loadModelFlags } from '../load.js';
import { headOf } from '../model.js';
import { confusionMatrix, formatConfusion, perClassAccuracy } from '../metrics.js';
import { backendOptions, dataOptions, jsonOption, percent, printJson } from '../options.js';
import { selectBackend } from '../setup.js';

interface EvaluateFlags {
  modelDir?: string;
  model?: string;
  data?: string;
  limit?: number;
  backend: string;
  gpujsMode?: string;
  json: boolean;
}

export function configureEvaluate(command: Command, registry: Registry): Command {
  command
    .description('evaluate a saved model on the MNIST test set: accuracy, loss, per-class accuracy and the confusion matrix')
    .option('--model-dir <dir>', 'a saved model directory (e.g. runs/<run>/model or runs/<run>/checkpoint), or a TF.js Layers model directory (model.json + shards)')
    .option('--model <path>', 'an ONNX file instead (e.g. from backprop export; read with fromOnnx), or any path --model-dir takes');
  dataOptions(command, 'test');
  backendOptions(command);
  jsonOption(command);
  command.addHelpText(
    'after',
    `
Examples:
  backprop evaluate --model-dir runs/paper-20250101-120000/model
  backprop evaluate --model-dir runs/x/model --limit 1000 --json
  backprop evaluate --model model.onnx
  backprop evaluate --model-dir tfjs-model/        # model.json + weight shards from TF.js model.save()

An ONNX file stores no loss, and a TF.js model's is not read: the test loss is the default for the model's head
(categoricalCrossentropy for a softmax head, binaryCrossentropy for a sigmoid head,
softmaxCrossEntropyFromLogits for a linear one). Class names come from its metadata.`,
  );
  return command.action(async (flags: EvaluateFlags) => {
    await selectBackend(registry, flags);
    const { model, loss, classNames, path, format } = await loadModelFlags(flags, registry);
    const lossNote = format === 'backprop' ? '' : `, the default for a ${headOf(model)} head: ${format === 'onnx' ? 'an ONNX file stores no loss' : "a TF.js model's loss is not read"}`;
    const label = (i: number): string => classNames?.[i] ?? String(i);
    let result: SetEvaluation & { labels: ArrayLike<number>; count: number };
    let source: string;
    if (flags.data !== undefined && (await detectData(flags.data)) === 'folder') {
      // Every image of the folder, at the model's own input shape; its classes must be the model's.
      const folder = await openFolderForModel(flags.data, model.inputShape);
      const folderClasses = [...folder.classNames];
      if (classNames && folderClasses.join('\n') !== classNames.join('\n')) {
        model.dispose();
        throw new CliError(`${flags.data}: the folder's classes (${folderClasses.join(', ')}) are not the model's (${classNames.join(', ')})`);
      }
      if (folderClasses.length !== classesOf(model.outputShape)) {
        model.dispose();
        throw new CliError(`${flags.data}: ${folderClasses.length} classes but the model has ${model.outputShape.join('×')} outputs`);
      }
      source = `image folder ${flags.data} (detected; ${folderClasses.length} classes: ${folderClasses.join(', ')}; streamed)`;
      // One forward pass, batch by batch as the images are decoded, gives the loss and the outputs.
      result = await evaluateFolder(model, folder, loss, flags.limit);
    } else {
      const { test, source: idxSource } = await loadData({ dir: flags.data, limit: 1, testLimit: flags.limit }, classesOf(model.outputShape));
      checkFits(test, model.inputShape, 'test data');
      source = idxSource;
      // One forward pass over the test set gives the loss and the outputs.
      result = { ...(await evaluateSet(model, test, loss)), labels: test.labels, count: test.count };
    }
    const { outputs, count } = result;
    const confusion = confusionMatrix(outputs, result.labels, outputs.length / count);
    const accuracy = confusion.reduce((s, row, i) => s + row[i], 0) / count;
    const perClass = perClassAccuracy(confusion);
    model.dispose();
    if (flags.json) {
      printJson({ ...(format !== 'backprop' ? { model: path, format, classNames } : { modelDir: path, ...(classNames ? { classNames } : {}) }), samples: count, testAccuracy: accuracy, testLoss: result.loss, loss: loss.name, perClassAccuracy: perClass, confusionMatrix: confusion });
      return;
    }
    const lines = [
      `${format === 'onnx' ? 'ONNX model' : format === 'tfjs' ? 'TF.js Layers model' : 'model'} ${path} on ${count} test images of ${source}`,
      `test accuracy ${percent(accuracy)}  test loss ${result.loss.toFixed(4)} (${loss.name}${lossNote})`,
      '',
      'per-class accuracy:',
      ...perClass.map((a, i) => `  ${label(i)}: ${a === null ? '–' : percent(a)}`),
      '',
      'confusion matrix (rows: actual, columns: predicted):',
      formatConfusion(confusion),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
