import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '@backprop/layers';
import { toOnnxAsync } from '@backprop/onnx';
import type { Registry } from '@backprop/tensor';
import { type Command, Option } from 'commander';
import { CliError, fileError } from '../errors.js';
import { loadModelDir } from '../load.js';
import { DIGIT_CLASS_NAMES, FOLDER_PREPARATION, ONNX_PREPARATION_KEY } from '../model.js';

interface ExportFlags {
  modelDir: string;
  format: 'onnx';
  out: string;
  overwrite: boolean;
}

export function configureExport(command: Command, registry: Registry): Command {
  return command
    .description('export a saved model to another format (ONNX, to run it in ONNX Runtime and other ONNX consumers)')
    .requiredOption('--model-dir <dir>', 'a saved model directory (e.g. runs/<run>/model)')
    .addOption(new Option('--format <format>', 'the output format').choices(['onnx']).default('onnx'))
    .requiredOption('--out <file>', 'the file to write (e.g. model.onnx)')
    .option('--overwrite', 'replace --out if it exists', false)
    .addHelpText(
      'after',
      `
The ONNX file (opset 13, IR 7) has the input 'input' [N, C, H, W], the model's own input shape
with a dynamic batch ([N, 1, 28, 28] for an MNIST model, e.g. [N, 3, 32, 32] for one trained
on a folder of 32×32 colour images), and the output 'output', float32, and the class names in
its metadata: the saved model's (a model trained on an image folder records them), else
'0'…'9' when the model has 10 outputs. A folder-trained model's file also says so in the
metadata entry 'backprop_image_preparation', so that predict --model <file> prepares images
as the folder's were (resized) rather than as MNIST digits.

Examples:
  backprop export --model-dir runs/paper-20250101-120000/model --format onnx --out paper.onnx
  backprop export --model-dir runs/x/model --out model.onnx --overwrite`,
    )
    .action(async (flags: ExportFlags) => {
      const out = resolve(flags.out);
      // Refused before anything is loaded or written; the write itself is atomic (a temporary file renamed into place).
      if (existsSync(out) && !flags.overwrite) throw new CliError(`${flags.out} exists; pass --overwrite to replace it or choose another --out`);
      const { model, manifest } = await loadModelDir(flags.modelDir, registry);
      let bytes: Uint8Array;
      try {
        const classes = model.outputShape.length === 1 ? model.outputShape[0] : 0;
        // The saved class names (a model trained on an image folder), else MNIST's digits for 10 outputs.
        const classNames = manifest.classNames ?? (classes === 10 ? [...DIGIT_CLASS_NAMES] : undefined);
        // A saved model records class names only when it was trained on an image folder.
        const metadata = manifest.classNames ? { [ONNX_PREPARATION_KEY]: FOLDER_PREPARATION } : undefined;
        bytes = await toOnnxAsync(model, { ...(classNames ? { classNames } : {}), ...(metadata ? { metadata } : {}) });
      } catch (error) {
        throw new CliError(`cannot export ${flags.modelDir} to ONNX: ${(error as Error).message}`);
      } finally {
        model.dispose();
      }
      try {
        await writeFileAtomic(out, bytes);
      } catch (error) {
        throw fileError(error, flags.out, 'write');
      }
      process.stdout.write(`wrote ${flags.out} (ONNX, ${bytes.length.toLocaleString('en-US')} bytes) from ${flags.modelDir}\n`);
    });
}
