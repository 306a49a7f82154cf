import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type Callbacks, type EpochLogs, loadModel, saveModel, type Sequential } from '@backprop/layers';
import type { ComponentJSON, Registry } from '@backprop/tensor';
import { type Command, Option } from 'commander';
import { checkFits, type DataOptions, inputsOf, labelsOf, loadData } from '../data.js';
import { CliError, EXIT, fraction, integer, positiveInt, positiveNumber, UsageError } from '../errors.js';
import { confusionMatrix } from '../metrics.js';
import { buildModel, headOf, modelSpec, PRESET_NAMES } from '../model.js';
import { backendOptions, dataOptions, isExplicit, jsonOption, percent, printJson } from '../options.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { writeReport } from '../report/index.js';
import { selectBackend } from '../setup.js';

export const DEFAULT_EPOCHS = 3;
export const CHECKPOINT_KIND = 'backprop-cli-checkpoint';

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
  out?: string;
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
  [key: string]: unknown;
}

export function configureTrain(command: Command, registry: Registry): Command {
  command
    .description('train a CNN on MNIST (or any IDX set with the MNIST file names), checkpointing every epoch and writing an HTML report')
    .addOption(new Option('--model <spec>', `${PRESET_NAMES.join(' | ')} | path to a Sequential.toJSON() .json file (with optional "loss" and "optimizer")`).argParser(modelSpec).default('paper'));
  dataOptions(command, 'train');
  command
    .option('--epochs <n>', 'total number of epochs (with --resume: the target count)', positiveInt, DEFAULT_EPOCHS)
    .option('--batch-size <n>', 'mini-batch size', positiveInt, 32)
    .option('--lr <rate>', "learning rate (default: the preset's, shown by 'backprop summary --model <preset>'; with another --optimizer, that optimizer's default)", positiveNumber)
    .addOption(new Option('--optimizer <name>', "optimizer (default: the preset's or the JSON file's; paper: sgd, lenet: adam)").choices(registry.optimizers.names()))
    .addOption(new Option('--loss <name>', "loss (default: the preset's or the JSON file's; paper: binaryCrossentropy, lenet: categoricalCrossentropy)").choices(registry.losses.names()))
    .option('--seed <n>', 'seed of the weight initialisation and of the per-epoch shuffling', integer, 1)
    .option('--validation-split <fraction>', 'hold out this fraction of the training images (taken from the end) for validation', fraction)
    .option('--out <dir>', 'output directory (default: runs/<model>-<timestamp>; with --resume: the checkpoint\'s run directory)')
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

Ctrl-C stops after the current batch, keeps the last finished epoch's checkpoint and
exits with code 130; continue with  backprop train --resume <out>/checkpoint --epochs <n>.

Examples:
  backprop train                                   # paper network, full MNIST, ${DEFAULT_EPOCHS} epochs
  backprop train --model lenet --epochs 2 --limit 10000
  backprop train --optimizer adam --lr 0.001 --validation-split 0.1 --out runs/adam
  backprop train --resume runs/adam/checkpoint --epochs 6
  backprop train --limit 500 --test-limit 200 --epochs 1 --json`,
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
}

/** Checks flags against a checkpoint's run: the options that shape training must not change on resume. */
function checkResumeFlags(flags: TrainFlags, cmd: Command, meta: CheckpointMetadata, dir: string): void {
  const fixed: [keyof TrainFlags, string, unknown][] = [
    ['model', '--model', meta.args.model],
    ['batchSize', '--batch-size', meta.args.batchSize],
    ['seed', '--seed', meta.seed],
    ['validationSplit', '--validation-split', meta.args.validationSplit],
    ['limit', '--limit', meta.args.data.limit],
    ['data', '--data', meta.args.data.dir],
    ['loss', '--loss', meta.args.loss.name],
    ['optimizer', '--optimizer', meta.args.optimizer.name],
    ['lr', '--lr', meta.args.optimizer.config.learningRate],
  ];
  for (const [key, flag, saved] of fixed) {
    if (!isExplicit(cmd, key)) continue;
    let value = flags[key];
    if (key === 'data' && typeof value === 'string') value = resolve(value);
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
  checkResumeFlags(flags, cmd, meta, dir);
  if (flags.epochs <= meta.epoch) {
    loaded.model.dispose();
    throw new UsageError(`the checkpoint in ${dir} has already finished ${meta.epoch} epoch(s); pass --epochs greater than ${meta.epoch}`);
  }
  // Only the test subset may change on resume; it does not affect training.
  const args: RunArgs = { ...meta.args, data: { ...meta.args.data, testLimit: isExplicit(cmd, 'testLimit') ? flags.testLimit : meta.args.data.testLimit } };
  return {
    model: loaded.model,
    args,
    seed: meta.seed,
    epochs: flags.epochs,
    initialEpoch: meta.epoch,
    history: meta.history ?? [],
    outDir: flags.out ?? dirname(resolve(dir)),
    description: `${meta.args.model} resumed from ${dir} (epoch ${meta.epoch})`,
  };
}

async function prepareFresh(flags: TrainFlags, registry: Registry): Promise<Prepared> {
  const built = await buildModel(flags.model, registry, flags.seed);
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
      validationSplit: flags.validationSplit,
      data: { dir: flags.data === undefined ? undefined : resolve(flags.data), limit: flags.limit, testLimit: flags.testLimit },
    },
    seed: flags.seed,
    epochs: flags.epochs,
    initialEpoch: 0,
    history: [],
    outDir: flags.out ?? join('runs', `${built.label}-${timestamp()}`),
    description: built.description,
  };
}

async function train(flags: TrainFlags, cmd: Command, registry: Registry): Promise<number> {
  const backend = await selectBackend(registry, flags);
  const run = flags.resume ? await prepareResume(flags, cmd, registry) : await prepareFresh(flags, registry);
  const { model, args, seed } = run;
  const log = (line: string): void => {
    (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  // Validate the data before creating the output directory.
  const data = await loadData(args.data);
  checkFits(data.train, model.inputShape, 'training data');
  checkFits(data.test, model.inputShape, 'test data');

  const outDir = resolve(run.outDir);
  const modelDir = join(outDir, 'model');
  const checkpointDir = join(outDir, 'checkpoint');
  const reportPath = join(outDir, 'report.html');
  await mkdir(outDir, { recursive: true });

  log(`backprop train: ${run.description}; backend ${backend}; seed ${seed}; data ${data.source} (${data.train.count} train / ${data.test.count} test)`);
  log(`loss ${args.loss.name}, optimizer ${args.optimizer.name} ${JSON.stringify(args.optimizer.config)}, batch size ${args.batchSize}; output ${outDir}`);

  const history = [...run.history];
  let finished = run.initialEpoch;
  let samples = 0;
  let seen = 0;
  const checkpointing: Callbacks = {
    onTrainBegin(info) {
      samples = info.samples;
    },
    onEpochBegin() {
      seen = 0;
    },
    onBatchEnd(logs) {
      seen = logs.seen;
    },
    async onEpochEnd(logs) {
      if (seen !== samples) return; // interrupted mid-epoch: keep the previous checkpoint
      history.push(logs);
      finished = logs.epoch + 1;
      const metadata: CheckpointMetadata = { kind: CHECKPOINT_KIND, epoch: finished, epochs: run.epochs, history, seed, args, backend };
      await saveModel(model, checkpointDir, { metadata });
    },
  };

  const stream = flags.json ? process.stderr : process.stdout;
  const mode: ProgressMode = stream.isTTY ? 'bar' : flags.json ? 'none' : 'lines';
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
    await model.fit(inputsOf(data.train), labelsOf(data.train), {
      epochs: run.epochs,
      initialEpoch: run.initialEpoch,
      batchSize: args.batchSize,
      loss: args.loss,
      optimizer: flags.resume ? model.optimizer ?? args.optimizer : args.optimizer,
      seed,
      shuffle: true,
      validationSplit: args.validationSplit,
      callbacks: [progress, checkpointing],
    });
  } catch (error) {
    throw new CliError((error as Error).message);
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  const trainSeconds = (performance.now() - started) / 1000;

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

  // Test-set evaluation, the final model and the report.
  const testX = inputsOf(data.test);
  const testY = labelsOf(data.test);
  // Asynchronous reads: they work on every backend (gpu.js webgpu has no synchronous readback).
  const evaluation = await model.evaluateAsync(testX, testY, { loss: args.loss });
  const predicted = await model.predictAsync(testX);
  const outputs = await predicted.data();
  predicted.dispose();
  const k = outputs.length / data.test.count;
  const confusion = confusionMatrix(outputs, data.test.labels, k);
  const testAccuracy = confusion.reduce((sum, row, i) => sum + row[i], 0) / data.test.count;
  const newEpochs = history.slice(run.history.length);
  const trainSamplesPerSecond =
    newEpochs.reduce((s, h) => s + h.samplesPerSecond * (h.durationMs / 1000), 0) / Math.max(1e-9, newEpochs.reduce((s, h) => s + h.durationMs / 1000, 0));

  const finalMeta = { kind: 'backprop-cli-model', epoch: finished, history, seed, args, backend, testAccuracy, testLoss: evaluation.loss };
  await saveModel(model, modelDir, { metadata: finalMeta });
  await writeReport(reportPath, {
    model,
    head: headOf(model),
    test: data.test,
    outputs,
    confusion,
    history,
    title: `Backprop training report — ${args.model}`,
    facts: [
      ['model', run.description],
      ['test accuracy', `${percent(testAccuracy)} on ${data.test.count} images`],
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
