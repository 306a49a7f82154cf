import type { Registry } from '@backprop/tensor';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { positiveInt } from '../errors.js';
import { loadDigit, loadImageInput } from '../image.js';
import { loadModelFlags } from '../load.js';
import { FOLDER_PREPARATION, headOf, ONNX_PREPARATION_KEY, probabilities } from '../model.js';
import { backendOptions, jsonOption, printJson } from '../options.js';
import { selectBackend } from '../setup.js';

interface PredictFlags {
  modelDir?: string;
  model?: string;
  top: number;
  backend: string;
  gpujsMode?: string;
  json: boolean;
}

export function configurePredict(command: Command, registry: Registry): Command {
  command
    .description('classify images (PNG or JPEG) with a saved model and print the top classes (by name, when the model records them) with probabilities')
    .argument('<images...>', 'PNG or JPEG files: grey or colour, any size, with or without alpha')
    .option('--model-dir <dir>', 'a saved model directory (e.g. runs/<run>/model), or a TF.js Layers model directory (model.json + shards)')
    .option('--model <path>', 'an ONNX file instead (e.g. from backprop export; read with fromOnnx, its class names are shown), or any path --model-dir takes')
    .option('--top <k>', 'number of classes to print per image', positiveInt, 3);
  backendOptions(command);
  jsonOption(command);
  command.addHelpText(
    'after',
    `
A model trained on an image folder (its saved model records the class names, and an ONNX
file exported from it carries them) gets each image as the folder's images were prepared: converted to its channels (grey by BT.601
luminance) and resized bilinearly to its input size; the class names are printed.
Otherwise each image is converted like MNIST: grey (luma, transparent pixels over white),
inverted to a white digit on black when its border is light, cropped to the ink,
the longer side scaled to 20 px (area averaging), then centred by centre of mass in 28×28.

Probabilities: a softmax head's outputs as they are; a sigmoid head (the paper
network's multi-label output) has its sigmoid outputs normalised to sum to 1; a
linear head goes through a softmax.

Examples:
  backprop predict --model-dir runs/paper-20250101-120000/model digit.png
  backprop predict --model-dir runs/x/model *.png --json
  backprop predict --model model.onnx digit.png
  backprop predict --model-dir tfjs-model/ digit.png   # a TF.js Layers model taking [28, 28, 1]`,
  );
  return command.action(async (images: string[], flags: PredictFlags) => {
    await selectBackend(registry, flags);
    const { model, classNames, path, format, metadata } = await loadModelFlags(flags, registry);
    const name = (label: number): string => classNames?.[label] ?? String(label);
    const [c, h, w] = model.inputShape;
    // A model trained on an image folder or taking other images than MNIST's: each image decoded,
    // converted and resized to the model's own input shape, as the folder's images were.
    // Otherwise MNIST-style digit preparation. A saved model records class names only when it
    // was trained on a folder; an ONNX file exported from one says so in its metadata.
    const folderTrained = format === 'backprop' ? classNames !== undefined : metadata[ONNX_PREPARATION_KEY] === FOLDER_PREPARATION;
    const generic = folderTrained || (model.inputShape.length === 3 && (c === 1 || c === 3) && !(c === 1 && h === 28 && w === 28));
    // An imported model may take flat [N, 784] inputs (a PyTorch MLP, say): the same pixels, row-major.
    const flat = !generic && model.inputShape.length === 1 && c === 28 * 28;
    if (!generic && !flat && (model.inputShape.length !== 3 || c !== 1 || h !== 28 || w !== 28)) {
      model.dispose();
      throw new CliError(`${path}: the model takes ${model.inputShape.join('×')} inputs; predict prepares 1×28×28 digits (or 784 flat), or C×H×W images with C 1 or 3`);
    }
    // Decode every image first: a bad file fails the command before anything is printed.
    const size = model.inputShape.reduce((a, d) => a * d, 1);
    const pixels = new Float32Array(images.length * size);
    for (let i = 0; i < images.length; i++) pixels.set(generic ? await loadImageInput(images[i], model.inputShape) : await loadDigit(images[i]), i * size);
    const shape = flat ? [images.length, 28 * 28] : [images.length, ...model.inputShape];
    const head = headOf(model);
    const out = await model.predictAsync({ values: pixels, shape });
    const values = await out.data();
    out.dispose();
    model.dispose();
    const k = values.length / images.length;
    const results = images.map((file, i) => {
      const probs = probabilities(values.subarray(i * k, (i + 1) * k), head);
      const top = probs
        .map((p, label) => ({ label, ...(classNames ? { className: name(label) } : {}), probability: p }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, flags.top);
      return { file, prediction: top[0].label, ...(classNames ? { className: name(top[0].label) } : {}), top };
    });
    if (flags.json) {
      printJson({ ...(format !== 'backprop' ? { model: path, format, classNames } : { modelDir: path, ...(classNames ? { classNames } : {}) }), head, normalised: head === 'sigmoid', results });
      return;
    }
    for (const r of results) {
      const list = r.top.map((t) => `${name(t.label)} (${(t.probability * 100).toFixed(1)}%)`).join(', ');
      process.stdout.write(`${r.file}: ${name(r.prediction)}   top ${r.top.length}: ${list}\n`);
    }
    if (head === 'sigmoid') process.stdout.write('(sigmoid head: probabilities are the sigmoid outputs normalised to sum to 1)\n');
  });
}
