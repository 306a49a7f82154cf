import {
  BackpropError,
  cast,
  checkBoolean,
  checkFloatTensor,
  checkOptions,
  checkTensor,
  type HostValues,
  shapeToString,
  type Tensor,
} from '@backprop/tensor';

/**
 * Argument checks shared by every loss. Each error names the loss first
 * (`categoricalCrossentropy: targets have shape [4, 3] but predictions have shape [4, 10]`).
 * `compute` checks what it can without reading values back: tensors, shapes, dtypes.
 * The value checks (NaN, ±Infinity, ranges, target rows) work on host values: a loss
 * exposes them as `checkValues(predictions, targets, fromLogits)` and, for the
 * targets alone, `checkTargets(targets)`, which `Sequential.fit`/`evaluate` run once
 * on the whole target set when the data enters. Reading a batch back inside `compute`
 * would stall the device on every call of the training loop's hot path. Pass
 * `{ validate: false }` to a loss to turn the value checks off.
 */

/** `flat` as a multi-index into `shape`, e.g. 5 in [2, 3] → "[1, 2]". */
export function positionOf(flat: number, shape: readonly number[]): string {
  if (shape.length === 0) return '[]';
  const idx: number[] = new Array(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Both arguments are live tensors of the same shape, the predictions are floating
 * point and not empty. `predictionsName` is 'predictions' or 'logits'.
 */
export function checkPair(
  loss: string,
  predictions: unknown,
  targets: unknown,
  predictionsName = 'predictions',
  shapeHint?: (predictions: Tensor, targets: Tensor) => string,
): asserts predictions is Tensor {
  checkTensor(loss, predictionsName, predictions);
  checkTensor(loss, 'targets', targets);
  checkFloatTensor(loss, predictionsName, predictions);
  const p = predictions;
  const t = targets;
  if (p.shape.length !== t.shape.length || p.shape.some((d, i) => d !== t.shape[i])) {
    throw new BackpropError(
      loss,
      `targets have shape ${shapeToString(t.shape)} but ${predictionsName} have shape ${shapeToString(p.shape)}` +
        (shapeHint ? shapeHint(p, t) : ''),
    );
  }
  if (p.size === 0) throw new BackpropError(loss, `${predictionsName} are empty (shape ${shapeToString(p.shape)})`);
}

/** Throws at the first NaN or ±Infinity, naming the argument and the index. */
export function checkFinite(loss: string, argName: string, t: HostValues): void {
  const values = t.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new BackpropError(
        loss,
        `${argName} contain ${Number.isNaN(v) ? 'NaN' : String(v)} at index ${i} (position ${positionOf(i, t.shape)} of shape ${shapeToString(t.shape)})`,
      );
    }
  }
}

/** Every value lies in [0, 1] (probabilities, binary or soft targets); implies finite. */
export function checkUnitInterval(loss: string, argName: string, t: HostValues, hint = ''): void {
  const values = t.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) {
      const what = Number.isNaN(v) ? 'NaN' : String(v);
      throw new BackpropError(
        loss,
        `${argName} must lie in [0, 1] but contain ${what} at index ${i} (position ${positionOf(i, t.shape)} of shape ${shapeToString(t.shape)})${hint}`,
      );
    }
  }
}

/**
 * Categorical targets: each row of the (N, K) targets is a probability vector
 * (one-hot for hard labels, or a soft distribution): entries in [0, 1] and each row
 * summing to 1 within 1e-3.
 */
export function checkCategoricalTargets(loss: string, targets: HostValues): void {
  const values = targets.values;
  const [n, k] = targets.shape;
  for (let r = 0; r < n; r++) {
    let total = 0;
    for (let c = 0; c < k; c++) {
      const v = values[r * k + c];
      if (!(v >= 0 && v <= 1)) {
        const what = Number.isNaN(v) ? 'NaN' : String(v);
        throw new BackpropError(
          loss,
          `targets row ${r} is not a valid class distribution: it contains ${what} at position [${r}, ${c}]; ` +
            'targets must be one-hot rows (use toOneHot(labels, numClasses)) or probability rows',
        );
      }
      total += v;
    }
    if (Math.abs(total - 1) > 1e-3) {
      throw new BackpropError(
        loss,
        `targets row ${r} sums to ${total}, not 1; targets must be one-hot rows (use toOneHot(labels, numClasses)) or probability rows`,
      );
    }
  }
}

/** Targets in the predictions' dtype (a cast copy when they differ; callers run inside a scope). */
export function sameDtype(targets: Tensor, like: Tensor): Tensor {
  return targets.dtype === like.dtype ? targets : cast(targets, like.dtype);
}

/** Options common to every loss. */
export interface LossOptions {
  /**
   * Run the value checks (NaN, ±Infinity, ranges, target rows) of `checkValues` and
   * `checkTargets`; default true. `compute` never reads values back, so they run
   * where values are on the host: `Sequential.fit`/`evaluate` check the targets once
   * when the data enters.
   */
  validate?: boolean;
}

/** Reads a factory config, rejecting unknown keys and bad values. */
export function readOptions(loss: string, config: Record<string, unknown> | undefined, extra: readonly string[] = []): {
  validate: boolean;
  config: Record<string, unknown>;
} {
  const cfg = checkOptions(loss, config, ['validate', ...extra], { name: 'config' });
  return { validate: checkBoolean(loss, 'validate', cfg.validate, true), config: cfg };
}
