import type { BatchLogs, Sequential } from '@backprop/layers';
import type { Tensor } from '@backprop/tensor';

/**
 * The divergence rule of `backprop train`. A run has diverged when
 *
 * - a batch loss is not finite (NaN or ±Infinity), or the weights or the optimizer
 *   state hold a non-finite value (checked after every epoch, before its checkpoint), or
 * - the mean loss of the last DIVERGENCE_WINDOW batches (fewer at the start of the run)
 *   exceeds DIVERGENCE_FACTOR × the reference loss: the loss of the run's first batch,
 *   computed before any update (it is saved in the checkpoint, so a resumed run keeps it;
 *   a checkpoint written before it was saved uses its first epoch's mean loss).
 *
 * A model starts near chance level; the loss of a healthy run stays below that start,
 * and one that climbs to ten times it is not going to come back (an SGD step that is
 * too large overshoots further on every step).
 */
export const DIVERGENCE_FACTOR = 10;
export const DIVERGENCE_WINDOW = 10;

export interface Divergence {
  /** 1-based epoch and batch where it was found. */
  epoch: number;
  batch?: number;
  reason: string;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));

/** Watches batch losses (as a fit callback) and records the first sign of divergence. */
export class DivergenceGuard {
  private recent: number[] = [];
  diverged: Divergence | undefined;

  constructor(
    private readonly model: Sequential,
    /** The reference loss; the first batch's loss when undefined. */
    public reference: number | undefined,
  ) {}

  onBatchEnd(logs: BatchLogs): void {
    if (this.diverged) return;
    const where = { epoch: logs.epoch + 1, batch: logs.batch + 1 };
    if (!Number.isFinite(logs.loss)) {
      this.stop({ ...where, reason: `the loss became ${logs.loss}` });
      return;
    }
    if (this.reference === undefined) this.reference = logs.loss;
    this.recent.push(logs.loss);
    if (this.recent.length > DIVERGENCE_WINDOW) this.recent.shift();
    const mean = this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    if (this.reference > 0 && mean > DIVERGENCE_FACTOR * this.reference) {
      const last = this.recent.length === 1 ? 'the loss of the batch' : `the mean loss of the last ${this.recent.length} batches`;
      this.stop({ ...where, reason: `${last} is ${fmt(mean)}, more than ${DIVERGENCE_FACTOR}× the run's first-batch loss ${fmt(this.reference)}` });
    }
  }

  stop(divergence: Divergence): void {
    this.diverged ??= divergence;
    this.model.stopTraining = true;
  }
}

/**
 * The first non-finite value among the model's weights and its optimizer's state, as
 * "conv2d_0/kernel[3] is NaN"; undefined when every value is finite.
 */
export async function findNonFinite(model: Sequential): Promise<string | undefined> {
  const tensors: [string, Tensor][] = model.params().map((p) => [p.name, p.value]);
  if (model.optimizer) {
    for (const [slot, t] of Object.entries(model.optimizer.getState().tensors)) tensors.push([`optimizer state ${slot}`, t]);
  }
  for (const [name, t] of tensors) {
    const values = await t.data();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) return `${name}[${i}] is ${values[i]}`;
    }
  }
  return undefined;
}

/** Whether an error thrown by training reports a non-finite value (the loss's or the outputs'). */
export function isNonFiniteError(error: unknown): boolean {
  return /\b(NaN|-?Infinity|non-finite|not finite)\b/.test(error instanceof Error ? error.message : String(error));
}
