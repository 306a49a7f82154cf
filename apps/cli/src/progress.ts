import type { BatchLogs, Callbacks, EpochLogs } from '@backprop/layers';
import cliProgress from 'cli-progress';

export type ProgressMode = 'bar' | 'lines' | 'none';

export interface ProgressOptions {
  mode: ProgressMode;
  stream: NodeJS.WriteStream;
  /** The total epoch count (the target when resuming). */
  epochs: number;
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
const rate = (v: number): string => `${Math.round(v)}`;

/** One line per finished epoch, e.g. `epoch 2/3  loss 0.0412  acc 98.71%  …`. */
export function formatEpoch(logs: EpochLogs, epochs: number): string {
  const parts = [
    `epoch ${logs.epoch + 1}/${epochs}`,
    `loss ${logs.loss.toFixed(4)}`,
    `acc ${pct(logs.accuracy)}`,
  ];
  if (logs.valLoss !== undefined) parts.push(`val_loss ${logs.valLoss.toFixed(4)}`, `val_acc ${pct(logs.valAccuracy ?? 0)}`);
  parts.push(`${rate(logs.samplesPerSecond)} samples/s`, `${(logs.durationMs / 1000).toFixed(1)}s`);
  return parts.join('  ');
}

/**
 * Training progress as fit callbacks: a cli-progress bar per epoch on a terminal
 * (loss, accuracy, samples/s, ETA), or plain lines — one per ~10% of an epoch's
 * batches and one per epoch — when the output is a pipe or a file.
 */
export function createProgress(options: ProgressOptions): Callbacks & { stop(): void } {
  const { mode, stream, epochs } = options;
  let batchesPerEpoch = 1;
  let samples = 0;
  let bar: cliProgress.SingleBar | undefined;
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let nextLine = 0.1;
  const write = (line: string): void => {
    stream.write(`${line}\n`);
  };
  const stopBar = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onTrainBegin(info) {
      batchesPerEpoch = info.batchesPerEpoch;
      samples = info.samples;
      if (mode !== 'none') {
        write(`training on ${samples} samples, ${batchesPerEpoch} batches per epoch, epochs ${info.initialEpoch + 1}–${epochs}`);
      }
    },
    onEpochBegin(epoch) {
      lossSum = 0;
      correct = 0;
      seen = 0;
      nextLine = 0.1;
      if (mode === 'bar') {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `epoch ${epoch + 1}/${epochs} [{bar}] {percentage}% | loss {loss} | acc {acc} | {sps} samples/s | ETA {eta_formatted}`,
            barsize: 24,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(samples, 0, { loss: '-', acc: '-', sps: '-' });
      }
    },
    onBatchEnd(logs: BatchLogs) {
      const n = logs.seen - seen;
      seen = logs.seen;
      lossSum += logs.loss * n;
      correct += logs.accuracy * n;
      const payload = { loss: (lossSum / seen).toFixed(4), acc: pct(correct / seen), sps: rate(logs.samplesPerSecond) };
      if (mode === 'bar') bar?.update(seen, payload);
      else if (mode === 'lines') {
        const done = (logs.batch + 1) / batchesPerEpoch;
        if (done >= nextLine - 1e-9 && logs.batch + 1 < batchesPerEpoch) {
          write(`epoch ${logs.epoch + 1}/${epochs}  ${Math.floor(done * 100)}% (batch ${logs.batch + 1}/${batchesPerEpoch})  loss ${payload.loss}  acc ${payload.acc}  ${payload.sps} samples/s`);
          while (nextLine <= done + 1e-9) nextLine += 0.1;
        }
      }
    },
    onEpochEnd(logs: EpochLogs) {
      stopBar();
      // An interrupted epoch ends early; it is reported by the caller, not here.
      if (mode !== 'none' && seen === samples) write(formatEpoch(logs, epochs));
    },
    stop: stopBar,
  };
}
