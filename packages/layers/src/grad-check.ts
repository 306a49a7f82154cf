import { type ComponentJSON, createRandom, type Loss, type Tensor } from '@backprop/tensor';
import { checkTargetValues, type DataLike, hostSet, targetSet } from './data.js';
import { computeLoss } from './evaluation.js';
import { runSync } from './readback.js';
import { Sequential } from './sequential.js';

export interface GradCheckOptions {
  /** Central-difference step h (apps/docs/math/index.md: 1e-6). */
  epsilon?: number;
  /** Elements checked per parameter tensor, sampled with `seed` (all when the tensor is smaller). */
  maxChecksPerTensor?: number;
  seed?: number;
}

export interface GradCheckEntry {
  /** max over checked elements of |g_num − g| / max(1, |g|) (the gradient-check rule of apps/docs/math/backprop.md). */
  maxRelativeError: number;
  checked: number;
  size: number;
}

/**
 * Checks every trainable parameter gradient of `model` against central finite
 * differences in float64 on (x, y): a float64 copy of the model computes the analytic
 * gradients by backpropagation and the numerical ones from L(θ ± h), every pass in
 * training mode with the same dropout masks and augmentation transforms. The model is
 * not modified.
 */
export function gradCheck(
  model: Sequential,
  x: DataLike,
  y: DataLike,
  lossSpec: string | ComponentJSON | Loss,
  options: GradCheckOptions = {},
): Record<string, GradCheckEntry> {
  const h = options.epsilon ?? 1e-6;
  const maxChecks = options.maxChecksPerTensor ?? 40;
  const rng = createRandom(options.seed ?? 7);
  const registry = model.registry;
  const copy = Sequential.fromJSON(model.toJSON(), { registry, dtype: 'float64' });
  try {
    copy.setWeights(model.getWeights().map((w) => ({ ...w, values: Float64Array.from(w.values) })));
    const loss = copy.resolveLoss(lossSpec);
    const fused = copy.fusesWith(loss);
    const inputs = runSync(hostSet('gradCheck', 'x', x));
    const targets = runSync(targetSet('gradCheck', 'y', y, copy.outputShape));
    checkTargetValues(loss, targets);
    const xs = registry.keep(registry.makeTensor(inputs.values, [inputs.count, ...inputs.sampleShape], 'float64'));
    const ys = registry.keep(registry.makeTensor(targets.values, [targets.count, ...targets.sampleShape], 'float64'));
    // Every pass runs in training mode (BatchNormalization on batch statistics, dropout
    // on) with the random layers replaying the same draws: the loss differentiated is
    // the one the training step differentiates, with its masks and transforms held fixed.
    const trainingForward = (): Tensor => {
      for (const layer of copy.layers) layer.restartRandomStream();
      return copy.forward(xs, { training: true, logits: fused });
    };
    const lossOf = (): number => registry.scope(() => computeLoss(loss, fused, trainingForward(), ys).loss.dataSync()[0]);
    const params = copy.trainableParams();
    try {
      const analytic = registry.scope(() => {
        const { grad } = computeLoss(loss, fused, trainingForward(), ys);
        copy.backward(grad);
        return params.map((p) => p.grad!.dataSync() as Float64Array);
      });
      const result: Record<string, GradCheckEntry> = {};
      params.forEach((param, index) => {
        const values = param.value.dataSync() as Float64Array;
        const size = values.length;
        const picks = size <= maxChecks ? Array.from({ length: size }, (_, i) => i) : sample(size, maxChecks, rng);
        let worst = 0;
        const setValue = (i: number, v: number): void => {
          values[i] = v;
          const old = param.value;
          param.value = registry.keep(registry.makeTensor(values, old.shape, 'float64'));
          old.dispose();
        };
        for (const i of picks) {
          const original = values[i];
          setValue(i, original + h);
          const plus = lossOf();
          setValue(i, original - h);
          const minus = lossOf();
          setValue(i, original);
          const numerical = (plus - minus) / (2 * h);
          const g = analytic[index][i];
          worst = Math.max(worst, Math.abs(numerical - g) / Math.max(1, Math.abs(g)));
        }
        result[param.name] = { maxRelativeError: worst, checked: picks.length, size };
      });
      return result;
    } finally {
      xs.dispose();
      ys.dispose();
    }
  } finally {
    copy.dispose();
  }
}

function sample(size: number, count: number, rng: ReturnType<typeof createRandom>): number[] {
  const picked = new Set<number>();
  while (picked.size < count) picked.add(rng.int(size));
  return [...picked].sort((a, b) => a - b);
}
