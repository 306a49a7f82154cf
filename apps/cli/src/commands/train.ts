import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Callbacks, type EpochLogs, loadModel, saveModel, type Sequential } from '@backprop/layers';
import type { ComponentJSON, Registry } from '@backprop/tensor';
import { type Command, Option } from 'commander';
import { checkFits, classesOf, type DataOptions, DEFAULT_FOLDER_SPLIT, detectData, type FolderData, imageSize, inputsOf, labelsOf, type LoadedData, loadData, loadFolder } from '../data.js';
import { CliError, EXIT, fileError, fraction, integer, oneLine, positiveInt, positiveNumber, UsageError } from '../errors.js';
import { evaluateSet } from '../evaluation.js';
import { DIVERGENCE_FACTOR, type Divergence, DivergenceGuard, findNonFinite, isNonFiniteError } from '../guard.js';
import { confusionMatrix } from '../metrics.js';
import { FORMAT_NAMES, isModelPath, loadAnyModel, modelOrPathSpec } from '../load.js';
import { type BuiltModel, buildModel, DEFAULT_OPTIMIZER, headOf, PRESET_NAMES } from '../model.js';
import { backendOptions, dataOptions, isExplicit, jsonOption, percent, printJson } from '../options.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { writeReport } from '../report/index.js';
import { selectBackend } from '../setup.js';

export const DEFAULT_EPOCHS = 3;
export const CHECKPOINT_KIND = 'backprop-cli-checkpoint';
export const MODEL_KIND = 'backprop-cli-model';
/** What a run writes into its output directory; an earlier run's is replaced only with --overwrite. */
const RUN_OUTPUTS = ['model', 'checkpoint', 'report.html'];

interface TrainFlags {
  model: string;
  data?: string;
  limit?: number;
  testLimit?: number;
  epochs: number;
  batchSize: number;
  lr?: number;
  optimizer?: string;
  loss?: string;
  seed: number;
  backend: string;
  gpujsMode?: string;
  validationSplit?: number;
  imageSize?: [number, number];
  channels?: string;
  out?: string;
  overwrite: boolean;
  resume?: string;
  json: boolean;
}

/** What a checkpoint needs to continue the run exactly. */
interface RunArgs {
  model: string;
  loss: ComponentJSON;
  optimizer: ComponentJSON;
  batchSize: number;
  validationSplit?: number;
  data: DataOptions;
}

interface CheckpointMetadata {
  kind: typeof CHECKPOINT_KIND;
  /** Number of finished epochs. */
  epoch: number;
  /** Target epoch count of the run. */
  epochs: number;
  history: EpochLogs[];
  seed: number;
  args: RunArgs;
  /** Loss of the run's first batch, the reference of the divergence rule (guard.ts). */
  referenceLoss?: number;
  [key: string]: unknown;
}

export function configureTrain(command: Command, registry: Registry): Command {
  command
    .description('train a CNN on MNIST (or any IDX set with the MNIST file names), checkpointing every epoch and writing an HTML report')
    .addOption(
      new Option(
        '--model <spec>',
        `${PRESET_NAMES.join(' | ')} | path to a Sequential.toJSON() .json file (with optional "loss" and "optimizer") | a model to fine-tune: an ONNX file (.onnx), a TF.js Layers model directory (model.json + shards) or a saved model directory`,
      )
        .argParser(modelOrPathSpec)
        .default('paper'),
    );
  dataOptions(command, 'train');
  command
    .option('--epochs <n>', 'total number of epochs (with --resume: the target count)', positiveInt, DEFAULT_EPOCHS)
    .option('--batch-size <n>', 'mini-batch size', positiveInt, 32)
    .option('--lr <rate>', "learning rate (default: the preset's, shown by 'backprop summary --model <preset>'; with another --optimizer, that optimizer's default)", positiveNumber)
    .addOption(new Option('--optimizer <name>', "optimizer (default: the preset's or the JSON file's; paper: sgd, lenet: adam)").choices(registry.optimizers.names()))
    .addOption(new Option('--loss <name>', "loss (default: the preset's or the JSON file's; paper: binaryCrossentropy, lenet: categoricalCrossentropy)").choices(registry.losses.names()))
    .option('--seed <n>', 'seed of the weight initialisation and of the per-epoch shuffling', integer, 1)
    .option('--validation-split <fraction>', `hold out this fraction of the training images (taken from the end) for validation; with an image folder, this fraction of each class (seeded by --seed; default ${DEFAULT_FOLDER_SPLIT}) is the test set`, fraction)
    .option('--image-size <HxW>', 'image folder: resize every image to H×W (bilinear; "28" means 28x28; default: the images\' own size when they share one)', imageSize)
    .addOption(new Option('--channels <n>', 'image folder: 1 (grey, by BT.601 luminance) or 3 (RGB); default: the images\' own').choices(['1', '3']))
    .option('--out <dir>', 'output directory (default: runs/<model>-<timestamp>; with --resume: the checkpoint\'s run directory)')
    .option('--overwrite', "let --out name an earlier run's directory: its model/ and report.html are removed when training starts, its checkpoint/ is replaced after the first epoch", false)
    .option('--resume <checkpoint-dir>', 'continue from a checkpoint directory written by an earlier run (same model, data, seed)');
  backendOptions(command);
  jsonOption(command);
  command.addHelpText(
    'after',
    `
Writes to the output directory:
  model/        the final model (saveModel: model.json + weights-<crc>.bin, with the optimizer state)
  checkpoint/   the model after every finished epoch, with the run's arguments and history
  report.html   loss/accuracy curves, confusion matrix, misclassified digits, conv kernels, feature maps

A --model .json file holds Sequential.toJSON() (or { "model": …, "loss": …, "optimizer": … });
without "loss" it trains with the loss matching its output activation (softmax:
categoricalCrossentropy, sigmoid: binaryCrossentropy, otherwise softmaxCrossEntropyFromLogits),
without "optimizer" with adam (learningRate 0.001).

Fine-tuning: a --model that is an ONNX file, a TF.js Layers model directory (model.json
and its weight shards, as TF.js model.save() writes them) or a saved model directory
starts from that model's weights (the seed then only shuffles); the run is saved in
Backprop's format like any other. Its loss is the default for its output activation
(a saved run's: its own), its optimizer adam (learningRate 0.001) unless --loss,
--optimizer or --lr say otherwise.

Ctrl-C stops after the current batch, keeps the last finished epoch's checkpoint and
exits with code 130; continue with  backprop train --resume <out>/checkpoint --epochs <n>.
Without --epochs, --resume continues to the checkpoint's target epoch count; when that
run had finished but its model/ is missing or incomplete, it writes model/ and the
report again from the checkpoint.

Divergence: training stops with exit code 1 when a batch loss or a weight is not
finite, or when the mean loss of the last 10 batches exceeds ${DIVERGENCE_FACTOR}× the loss of the
run's first batch. Nothing diverged is saved; the last good checkpoint is kept.

Examples:
  backprop train                                   # paper network, full MNIST, ${DEFAULT_EPOCHS} epochs
  backprop train --model lenet --epochs 2 --limit 10000
  backprop train --optimizer adam --lr 0.001 --validation-split 0.1 --out runs/adam
  backprop train --resume runs/adam/checkpoint --epochs 6
  backprop train --model model.onnx --epochs 1 --lr 0.0001 --out runs/tuned
  backprop train --model tfjs-model/ --epochs 2 --out runs/from-tfjs
  backprop train --limit 500 --test-limit 200 --epochs 1 --json
  backprop train --data my-images/ --image-size 32x32 --channels 3 --model lenet

An image folder (--data with one subfolder per class of .png/.jpg images, the Keras /
torchvision layout) is detected and said so; a preset then takes its images (--image-size,
--channels; default: the images' own) and has one output per class. A seeded, stratified
--validation-split (default ${DEFAULT_FOLDER_SPLIT}) of each class is held out as the test set;
the rest is decoded batch by batch while training, so the folder need not fit in memory.
The saved model records the class names, which evaluate and predict print.`,
  );
  return command.action(async (flags: TrainFlags, cmd: Command) => {
    process.exitCode = await train(flags, cmd, registry);
  });
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

interface Prepared {
  model: Sequential;
  args: RunArgs;
  seed: number;
  epochs: number;
  initialEpoch: number;
  history: EpochLogs[];
  outDir: string;
  description: string;
  /** The reference loss of the divergence rule; the first batch's loss when undefined. */
  referenceLoss?: number;
  /** Resuming in the checkpoint's own run directory. */
  ownDir: boolean;
  /** The checkpoint's run had finished but its model/ is missing or incomplete: only write it again. */
  finishOnly: boolean;
}

/**
 * Checks flags against a checkpoint's run: the options that shape training must not change
 * on resume (the run continues with the checkpoint's own; a flag that repeats it is accepted).
 */
function checkResumeFlags(flags: TrainFlags, cmd: Command, meta: CheckpointMetadata, model: Sequential, dir: string): void {
  const data = meta.args.data;
  const folder = data.kind === 'folder';
  // An image folder run's images as it trains on them (the model's input), whether it set them or took the images' own.
  const [channels, height, width] = model.inputShape;
  const fixed: [keyof TrainFlags, string, unknown][] = [
    ['model', '--model', meta.args.model],
    ['batchSize', '--batch-size', meta.args.batchSize],
    ['seed', '--seed', meta.seed],
    // A folder run's split is its data's (the held-out share of each class); an IDX run's, the held-out tail of the training set.
    ['validationSplit', '--validation-split', folder ? data.validationSplit : meta.args.validationSplit],
    ['limit', '--limit', data.limit],
    ['data', '--data', data.dir],
    ['imageSize', '--image-size', folder ? `${height}x${width}` : undefined],
    ['channels', '--channels', folder ? String(channels) : undefined],
    ['loss', '--loss', meta.args.loss.name],
    ['optimizer', '--optimizer', meta.args.optimizer.name],
    ['lr', '--lr', meta.args.optimizer.config.learningRate],
  ];
  for (const [key, flag, saved] of fixed) {
    if (!isExplicit(cmd, key)) continue;
    let value = flags[key];
    if (key === 'data' && typeof value === 'string') value = resolve(value);
    if (key === 'imageSize' && Array.isArray(value)) value = value.join('x');
    if (value !== saved) {
      throw new UsageError(`--resume continues the run saved in ${dir}: ${flag} ${String(value)} differs from the checkpoint's ${saved === undefined ? '(unset)' : String(saved)}; drop ${flag}`);
    }
  }
}

async function prepareResume(flags: TrainFlags, cmd: Command, registry: Registry): Promise<Prepared> {
  const dir = flags.resume!;
  let loaded: Awaited<ReturnType<typeof loadModel>>;
  try {
    loaded = await loadModel(dir, { registry });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const meta = loaded.manifest.metadata as CheckpointMetadata | undefined;
  if (!meta || meta.kind !== CHECKPOINT_KIND || !Number.isInteger(meta.epoch) || !meta.args) {
    loaded.model.dispose();
    throw new CliError(`${join(dir, 'model.json')}: not a training checkpoint (no CLI training metadata); pass a run's checkpoint/ directory`);
  }
  try {
    checkResumeFlags(flags, cmd, meta, loaded.model, dir);
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
  const bad = await findNonFinite(loaded.model);
  if (bad) {
    loaded.model.dispose();
    throw new CliError(`${dir}: the checkpoint holds non-finite values (${bad}), written by a run that diverged; start a new run with a lower --lr`);
  }
  const runDir = dirname(resolve(dir));
  const outDir = flags.out ?? runDir;
  const explicitEpochs = isExplicit(cmd, 'epochs');
  // Without --epochs: the checkpoint's own target.
  const epochs = explicitEpochs || !Number.isInteger(meta.epochs) ? flags.epochs : meta.epochs;
  let finishOnly = false;
  if (epochs <= meta.epoch) {
    const modelDir = join(resolve(outDir), 'model');
    if (epochs < meta.epoch || (await finalOutputsComplete(resolve(outDir), meta.epoch, registry))) {
      loaded.model.dispose();
      throw new UsageError(
        `the checkpoint in ${dir} has already finished ${meta.epoch} epoch(s)${epochs === meta.epoch ? ` and its final model is in ${modelDir}` : ''}; pass --epochs greater than ${meta.epoch} to train further`,
      );
    }
    // The run finished but was stopped while writing model/ (or it was removed): write it again.
    finishOnly = true;
  }
  // Only the test subset may change on resume; it does not affect training.
  const args: RunArgs = { ...meta.args, data: { ...meta.args.data, testLimit: isExplicit(cmd, 'testLimit') ? flags.testLimit : meta.args.data.testLimit } };
  const referenceLoss = typeof meta.referenceLoss === 'number' ? meta.referenceLoss : meta.history?.[0]?.loss;
  return {
    model: loaded.model,
    args,
    seed: meta.seed,
    epochs: finishOnly ? meta.epoch : epochs,
    initialEpoch: meta.epoch,
    history: meta.history ?? [],
    outDir,
    description: finishOnly
      ? `${meta.args.model} from ${dir} (epoch ${meta.epoch}): writing the final model and report again`
      : `${meta.args.model} resumed from ${dir} (epoch ${meta.epoch})`,
    referenceLoss: Number.isFinite(referenceLoss) ? referenceLoss : undefined,
    ownDir: resolve(outDir) === runDir,
    finishOnly,
  };
}

/** Whether a run directory holds the final model of epoch `epoch` (loadable) and its report. */
async function finalOutputsComplete(outDir: string, epoch: number, registry: Registry): Promise<boolean> {
  if (!existsSync(join(outDir, 'report.html'))) return false;
  try {
    const { model, manifest } = await loadModel(join(outDir, 'model'), { registry });
    model.dispose();
    return manifest.metadata?.kind === MODEL_KIND && manifest.metadata.epoch === epoch;
  } catch {
    return false;
  }
}

/**
 * A model to fine-tune: an ONNX file, a TF.js Layers model or a saved model directory, with
 * its weights. Its loss is the saved run's or the default for its head, its optimizer the
 * saved run's or adam (learningRate 0.001); --loss, --optimizer and --lr override them.
 */
async function importForTraining(path: string, registry: Registry): Promise<BuiltModel> {
  const loaded = await loadAnyModel(path, registry);
  return {
    model: loaded.model,
    loss: loaded.loss,
    optimizer: loaded.optimizer ?? DEFAULT_OPTIMIZER,
    description: `${loaded.model.name} from the ${FORMAT_NAMES[loaded.format]} ${path}, starting from its weights`,
    label: basename(path.replace(/[\\/]+$/, '')).replace(/\.onnx$/i, '') || 'model',
  };
}

async function prepareFresh(flags: TrainFlags, registry: Registry, folder?: FolderData): Promise<Prepared> {
  // A preset trained on an image folder takes the folder's images and has one output per class.
  const shape = folder ? { inputShape: [...folder.folder.inputShape], classes: folder.classNames.length } : undefined;
  const built = isModelPath(flags.model) ? await importForTraining(flags.model, registry) : await buildModel(flags.model, registry, flags.seed, shape);
  let optimizer = built.optimizer;
  if (flags.optimizer && flags.optimizer !== optimizer.name) optimizer = { name: flags.optimizer, config: {} };
  if (flags.lr !== undefined) optimizer = { name: optimizer.name, config: { ...optimizer.config, learningRate: flags.lr } };
  const loss = flags.loss ? { name: flags.loss, config: {} } : built.loss;
  // Build both once so bad names or configs fail before anything is written.
  try {
    built.model.resolveLoss(loss);
    registry.optimizers.get(optimizer.name)(optimizer.config).dispose();
  } catch (error) {
    built.model.dispose();
    throw new CliError((error as Error).message);
  }
  return {
    model: built.model,
    args: {
      model: flags.model,
      loss,
      optimizer,
      batchSize: flags.batchSize,
      validationSplit: folder ? undefined : flags.validationSplit,
      data: folder
        ? { dir: resolve(flags.data!), kind: 'folder' as const, imageSize: flags.imageSize, channels: flags.channels === undefined ? undefined : (Number(flags.channels) as 1 | 3), validationSplit: flags.validationSplit ?? DEFAULT_FOLDER_SPLIT, seed: flags.seed }
        : { dir: flags.data === undefined ? undefined : resolve(flags.data), limit: flags.limit, testLimit: flags.testLimit },
    },
    seed: flags.seed,
    epochs: flags.epochs,
    initialEpoch: 0,
    history: [],
    outDir: flags.out ?? join('runs', `${built.label}-${timestamp()}`),
    description: built.description,
    ownDir: false,
    finishOnly: false,
  };
}

/** Refuses a validation split that leaves no image on either side. */
function checkSplit(count: number, split: number | undefined): void {
  if (split === undefined) return;
  const held = Math.floor(count * split);
  const kept = count - held;
  if (held < 1 || kept < 1) {
    throw new UsageError(
      `--validation-split ${split} of ${count} training image(s) leaves ${kept} for training and ${held} for validation; both need at least 1 (train on more images with --limit, or change --validation-split)`,
    );
  }
}

/** An earlier run's outputs in `outDir` are replaced only with --overwrite (a resume continues in its own directory). */
function checkOutDir(outDir: string, flags: TrainFlags, run: Prepared): void {
  if (run.ownDir || flags.overwrite) return;
  const found = RUN_OUTPUTS.filter((name) => existsSync(join(outDir, name)));
  if (found.length > 0) {
    throw new UsageError(
      `${outDir} holds an earlier run (${found.join(', ')}); pass --overwrite to replace it, choose another --out, or continue that run with --resume ${join(outDir, 'checkpoint')}`,
    );
  }
}

/**
 * Creates the output directory and checks that files can be created in it (and in the
 * model/ and checkpoint/ it may already hold), so a read-only or missing place fails
 * before training, naming the path. Returns the first directory it created, if any.
 */
async function prepareOutDir(outDir: string): Promise<string | undefined> {
  let created: string | undefined;
  try {
    created = await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw fileError(error, outDir, 'create the output directory');
  }
  for (const dir of [outDir, join(outDir, 'model'), join(outDir, 'checkpoint')]) {
    if (dir !== outDir && !existsSync(dir)) continue;
    const probe = join(dir, `.backprop-write-check-${process.pid}`);
    try {
      await writeFile(probe, '');
    } catch (error) {
      if (created) await removeEmptyDirs(outDir, created);
      // Name the directory, not the probe file.
      const { code, message } = error as NodeJS.ErrnoException;
      throw fileError(Object.assign(new Error(message), { code }), dir, 'write to');
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }
  return created;
}

/** Removes `dir` and its parents up to `top` (inclusive) while they are empty: what a failed run created and left empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  let current = resolve(dir);
  const stop = resolve(top);
  for (;;) {
    try {
      if ((await readdir(current)).length > 0) return;
      await rmdir(current);
    } catch {
      return;
    }
    if (current === stop || dirname(current) === current) return;
    current = dirname(current);
  }
}

async function train(flags: TrainFlags, cmd: Command, registry: Registry): Promise<number> {
  if (flags.out !== undefined && flags.out.trim() === '') {
    throw new UsageError("--out is empty; pass a directory (e.g. --out runs/my-run), or leave --out out for runs/<model>-<timestamp>");
  }
  const backend = await selectBackend(registry, flags);
  // Which kind of data --data names decides the model's shape for a preset: look first.
  const kind = !flags.resume && flags.data !== undefined ? await detectData(flags.data) : undefined;
  if (kind === 'folder' && (flags.limit !== undefined || flags.testLimit !== undefined)) {
    throw new UsageError(`${flags.data} is an image folder: --limit and --test-limit apply to IDX files (the folder's held-out share is --validation-split)`);
  }
  if (kind === 'idx' && (flags.imageSize !== undefined || flags.channels !== undefined)) {
    throw new UsageError(`${flags.data} holds IDX files: --image-size and --channels apply to an image folder`);
  }
  const folder = kind === 'folder' ? await loadFolder({ dir: flags.data, imageSize: flags.imageSize, channels: flags.channels === undefined ? undefined : (Number(flags.channels) as 1 | 3), validationSplit: flags.validationSplit, seed: flags.seed }) : undefined;
  const run = flags.resume ? await prepareResume(flags, cmd, registry) : await prepareFresh(flags, registry, folder);
  const { model, args, seed } = run;
  const log = (line: string): void => {
    (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  // Validate everything (the data, its labels, the split, the output directory) before creating a directory.
  let data: LoadedData;
  if (args.data.kind === 'folder') {
    data = folder ?? (await loadFolder(args.data));
    if (folder) log(`data: ${flags.data} is an image folder (detected)`);
    if (data.folder.inputShape.join('×') !== model.inputShape.join('×')) {
      throw new CliError(`the model takes ${model.inputShape.join('×')} inputs but the image folder gives ${data.folder.inputShape.join('×')} images; pass --image-size and --channels to match`);
    }
    if (classesOf(model.outputShape) !== data.classNames.length) {
      throw new CliError(`the model has ${model.outputShape.join('×')} outputs but the image folder has ${data.classNames.length} classes (${data.classNames.join(', ')})`);
    }
  } else {
    const idx = await loadData(args.data, classesOf(model.outputShape));
    if (kind === 'idx') log(`data: ${flags.data} holds IDX files (detected)`);
    checkFits(idx.train, model.inputShape, 'training data');
    checkFits(idx.test, model.inputShape, 'test data');
    checkSplit(idx.train.count, args.validationSplit);
    data = idx;
  }

  const outDir = resolve(run.outDir);
  const modelDir = join(outDir, 'model');
  const checkpointDir = join(outDir, 'checkpoint');
  const reportPath = join(outDir, 'report.html');
  checkOutDir(outDir, flags, run);
  const created = await prepareOutDir(outDir);
  try {
    return await trainIn({ flags, run, data, backend, log, outDir, modelDir, checkpointDir, reportPath });
  } catch (error) {
    // A failed run leaves no empty directory behind (what it wrote, it keeps).
    if (created) await removeEmptyDirs(outDir, created);
    throw error;
  }
}

interface TrainContext {
  flags: TrainFlags;
  run: Prepared;
  data: LoadedData;
  backend: string;
  log: (line: string) => void;
  outDir: string;
  modelDir: string;
  checkpointDir: string;
  reportPath: string;
}

async function trainIn(context: TrainContext): Promise<number> {
  const { flags, run, data, backend, log, outDir, modelDir, checkpointDir, reportPath } = context;
  const { model, args, seed } = run;
  const classNames = data.kind === 'folder' ? data.classNames : undefined;
  if (flags.overwrite && !run.ownDir) {
    // The earlier run's final outputs go now; its checkpoint is replaced after the first epoch.
    for (const stale of [modelDir, reportPath]) {
      try {
        await rm(stale, { recursive: true, force: true });
      } catch (error) {
        throw fileError(error, stale, 'remove');
      }
    }
  }

  log(`backprop train: ${run.description}; backend ${backend}; seed ${seed}; data ${data.source} (${data.trainCount} train / ${data.test.count} ${data.kind === 'folder' ? 'held out' : 'test'})`);
  log(`loss ${args.loss.name}, optimizer ${args.optimizer.name} ${JSON.stringify(args.optimizer.config)}, batch size ${args.batchSize}; output ${outDir}`);

  const history = [...run.history];
  let finished = run.initialEpoch;
  let samples = data.trainCount - (args.validationSplit === undefined ? 0 : Math.floor(data.trainCount * args.validationSplit));
  let seen = 0;
  let epoch = run.initialEpoch;
  let batch = 0;
  const guard = new DivergenceGuard(model, run.referenceLoss);
  const checkpointing: Callbacks = {
    onTrainBegin(info) {
      samples = info.samples;
    },
    onEpochBegin(e) {
      seen = 0;
      epoch = e;
      batch = 0;
    },
    onBatchEnd(logs) {
      seen = logs.seen;
      batch = logs.batch + 1;
      guard.onBatchEnd(logs);
    },
    async onEpochEnd(logs) {
      if (guard.diverged || seen !== samples) return; // diverged or interrupted mid-epoch: keep the previous checkpoint
      const bad = await findNonFinite(model);
      if (bad) {
        guard.stop({ epoch: logs.epoch + 1, reason: `the weights became non-finite (${bad})` });
        return;
      }
      history.push(logs);
      const metadata: CheckpointMetadata = { kind: CHECKPOINT_KIND, epoch: logs.epoch + 1, epochs: run.epochs, history, seed, args, backend, referenceLoss: guard.reference };
      try {
        await saveModel(model, checkpointDir, { metadata, classNames });
      } catch (error) {
        history.pop();
        const kept = finished > 0 ? `the checkpoint after epoch ${finished} is kept` : 'no checkpoint was written';
        throw fileError(error, checkpointDir, `save the checkpoint after epoch ${logs.epoch + 1} to`, kept);
      }
      finished = logs.epoch + 1;
    },
  };

  const stream = flags.json ? process.stderr : process.stdout;
  const mode: ProgressMode = stream.isTTY ? 'bar' : flags.json ? 'none' : 'lines';
  let trainSeconds = 0;
  if (!run.finishOnly) {
    const progress = createProgress({ mode, stream, epochs: run.epochs });
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts > 1) process.exit(EXIT.interrupted);
      model.stopTraining = true;
      progress.stop();
      process.stderr.write('\ninterrupted: finishing the current batch (Ctrl-C again to quit at once)…\n');
    };
    process.on('SIGINT', onSigint);
    const started = performance.now();
    try {
      const common = {
        epochs: run.epochs,
        initialEpoch: run.initialEpoch,
        loss: args.loss,
        optimizer: flags.resume ? model.optimizer ?? args.optimizer : args.optimizer,
        callbacks: [progress, checkpointing],
      };
      if (data.kind === 'folder') {
        // Decoded batch by batch (the next one while this one trains); pass e is epoch e, so a resumed run shuffles as the original did.
        const batches = data.folder.batches({ batchSize: args.batchSize, shuffle: true, seed, firstPass: run.initialEpoch });
        await model.fit(batches, { ...common, validationData: [inputsOf(data.test), labelsOf(data.test)] });
      } else {
        await model.fit(inputsOf(data.train), labelsOf(data.train), { ...common, batchSize: args.batchSize, seed, shuffle: true, validationSplit: args.validationSplit });
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      // After a divergence the epoch's validation pass may fail on its NaNs: the divergence is the news.
      if (!guard.diverged) {
        // The data is finite (IDX bytes / 255): a NaN or an Infinity during training comes from the training.
        const bad = await findNonFinite(model).catch(() => undefined);
        if (!bad && !isNonFiniteError(error)) throw new CliError(oneLine(error));
        guard.stop({ epoch: epoch + 1, batch: batch + 1, reason: bad ? `the weights became non-finite (${bad})` : oneLine(error) });
      }
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
    }
    trainSeconds = (performance.now() - started) / 1000;
  }

  if (guard.diverged) return reportDivergence(context, guard.diverged, finished);

  if (model.stopTraining) {
    const resumeCommand = `backprop train --resume ${checkpointDir} --epochs ${run.epochs}`;
    const saved = finished > 0 && existsSync(join(checkpointDir, 'model.json'));
    if (flags.json) {
      printJson({ interrupted: true, epochs: finished, checkpointDir: saved ? checkpointDir : null, resumeCommand: saved ? resumeCommand : null });
    }
    if (saved) {
      process.stderr.write(`stopped. The checkpoint after epoch ${finished} is in ${checkpointDir}\nresume with: ${resumeCommand}\n`);
    } else {
      process.stderr.write('stopped before the first epoch finished; no checkpoint was written.\n');
    }
    model.dispose();
    return EXIT.interrupted;
  }

  // The final model is the last checkpoint's weights: never write non-finite ones.
  const bad = await findNonFinite(model);
  if (bad) return reportDivergence(context, { epoch: finished, reason: `the weights are non-finite (${bad})` }, finished);

  // Test-set evaluation (one forward pass: the loss and the outputs), the final model and the report.
  const evaluation = await evaluateSet(model, data.test, args.loss);
  const outputs = evaluation.outputs;
  const k = outputs.length / data.test.count;
  const confusion = confusionMatrix(outputs, data.test.labels, k);
  const testAccuracy = confusion.reduce((sum, row, i) => sum + row[i], 0) / data.test.count;
  const newEpochs = history.slice(run.history.length);
  const trainSamplesPerSecond =
    newEpochs.reduce((s, h) => s + h.samplesPerSecond * (h.durationMs / 1000), 0) / Math.max(1e-9, newEpochs.reduce((s, h) => s + h.durationMs / 1000, 0));

  const rerun = `the checkpoint after epoch ${finished} is kept in ${checkpointDir}; once fixed, run  backprop train --resume ${checkpointDir}  to write it again`;
  const finalMeta = { kind: MODEL_KIND, epoch: finished, history, seed, args, backend, testAccuracy, testLoss: evaluation.loss, referenceLoss: guard.reference };
  try {
    await saveModel(model, modelDir, { metadata: finalMeta, classNames });
  } catch (error) {
    throw fileError(error, modelDir, 'save the final model to', rerun);
  }
  try {
    await writeReport(reportPath, {
      model,
      head: headOf(model),
      test: data.test,
      classNames,
      outputs,
      confusion,
      history,
      title: `Backprop training report — ${args.model}`,
      facts: [
        ['model', run.description],
        ['test accuracy', `${percent(testAccuracy)} on ${data.test.count} ${data.kind === 'folder' ? 'held-out ' : ''}images`],
        ['test loss', evaluation.loss.toFixed(4)],
        ['epochs', String(finished)],
        ['training samples', String(samples)],
        ['samples/s (this run)', Math.round(trainSamplesPerSecond).toString()],
        ['loss', `${args.loss.name} ${JSON.stringify(args.loss.config)}`],
        ['optimizer', `${args.optimizer.name} ${JSON.stringify(args.optimizer.config)}`],
        ['batch size', String(args.batchSize)],
        ['seed', String(seed)],
        ['backend', backend],
        ['data', data.source],
        ['written', new Date().toISOString()],
      ],
    });
  } catch (error) {
    // The temporary file of the atomic write, if the failure left one.
    for (const name of await readdir(outDir).catch(() => [] as string[])) {
      if (/^report\.html\..+\.tmp$/.test(name)) await rm(join(outDir, name), { force: true }).catch(() => undefined);
    }
    throw fileError(error, reportPath, 'write the report to', rerun.replace('write it again', 'write the report again'));
  }
  model.dispose();

  const result = {
    testAccuracy,
    testLoss: evaluation.loss,
    epochs: finished,
    trainSamplesPerSecond,
    backend,
    seed,
    model: args.model,
    outDir,
    modelDir,
    checkpointDir,
    reportPath,
    history,
    trainSeconds,
  };
  if (flags.json) {
    printJson(result);
  } else {
    log(`test accuracy ${percent(testAccuracy)}  test loss ${evaluation.loss.toFixed(4)}  (${data.test.count} images)`);
    log(`model: ${modelDir}\ncheckpoint: ${checkpointDir}\nreport: ${reportPath}`);
  }
  return EXIT.ok;
}

/** Says the run diverged, where, what was kept and what to try; exit code 1 (a one-line error). */
function reportDivergence(context: TrainContext, divergence: Divergence, finished: number): never {
  const { flags, run, checkpointDir } = context;
  run.model.dispose();
  const saved = finished > 0 && existsSync(join(checkpointDir, 'model.json'));
  const lr = run.args.optimizer.config.learningRate;
  const lower = typeof lr === 'number' ? `a lower --lr (e.g. ${Number((lr / 10).toPrecision(3))}; this run used ${lr})` : 'a lower --lr';
  const where = `epoch ${divergence.epoch}${divergence.batch === undefined ? '' : `, batch ${divergence.batch}`}`;
  const kept = saved ? `the last good checkpoint (after epoch ${finished}) is kept in ${checkpointDir}` : 'no epoch finished before it, so there is no checkpoint';
  if (flags.json) {
    printJson({ diverged: true, epoch: divergence.epoch, batch: divergence.batch ?? null, reason: divergence.reason, epochs: finished, checkpointDir: saved ? checkpointDir : null });
  }
  throw new CliError(
    `training diverged in ${where}: ${divergence.reason}. Stopped without saving it; ${kept}. Try ${lower}, --optimizer adam (it adapts its step size), or a larger --batch-size`,
  );
}
