import { BackpropError, checkBoolean, checkNumberInRange, checkOneOf, checkPositiveInt, describeValue, UPDATE_HYPERPARAMETERS } from '@backprop/tensor';

/**
 * Learning-rate schedules, given as JSON-serialisable config. `t` is the number of
 * steps already taken (`optimizer.iterations`), so the first step uses lr(0).
 *
 * - a number: constant α.
 * - `{ type: 'exponential', initial, decayRate, decaySteps, staircase? }`:
 *   α(t) = initial · decayRate^(t / decaySteps), with ⌊t / decaySteps⌋ when staircase.
 * - `{ type: 'step', initial, factor, stepSize }`: α(t) = initial · factor^⌊t / stepSize⌋.
 * - `{ type: 'cosine', initial, decaySteps, minimum? }`:
 *   α(t) = minimum + (initial − minimum) · ½(1 + cos(π · min(t, decaySteps) / decaySteps)),
 *   minimum defaults to 0 and is an absolute learning rate (reached at t ≥ decaySteps).
 */
export type LearningRateSchedule =
  | { type: 'exponential'; initial: number; decayRate: number; decaySteps: number; staircase?: boolean }
  | { type: 'step'; initial: number; factor: number; stepSize: number }
  | { type: 'cosine'; initial: number; decaySteps: number; minimum?: number };

export type LearningRate = number | LearningRateSchedule;

const SCHEDULE_TYPES: readonly LearningRateSchedule['type'][] = ['exponential', 'step', 'cosine'];

const SCHEDULE_KEYS: Record<LearningRateSchedule['type'], { required: string[]; optional: string[] }> = {
  exponential: { required: ['initial', 'decayRate', 'decaySteps'], optional: ['staircase'] },
  step: { required: ['initial', 'factor', 'stepSize'], optional: [] },
  cosine: { required: ['initial', 'decaySteps'], optional: ['minimum'] },
};

function fail(where: string, detail: string): never {
  throw new BackpropError(where, detail);
}

const finiteNonNegative = (where: string, name: string, v: unknown): number => checkNumberInRange(where, name, v, { min: 0 });
const positive = (where: string, name: string, v: unknown): number => checkNumberInRange(where, name, v, { min: 0, minExclusive: true });

/**
 * Validates a learning-rate config and returns a normalised copy. `where` is the
 * optimizer's name, so errors read `adam: learningRate.decayRate must be …`.
 */
export function parseLearningRate(where: string, value: unknown): LearningRate {
  if (typeof value === 'number') return checkNumberInRange(where, 'learningRate', value, UPDATE_HYPERPARAMETERS.learningRate);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(
      where,
      `learningRate must be a number or a schedule { type: 'exponential' | 'step' | 'cosine', … }, got ${describeValue(value)}`,
    );
  }
  const cfg = value as Record<string, unknown>;
  const type = checkOneOf(where, 'learningRate.type', cfg.type, SCHEDULE_TYPES);
  const { required, optional } = SCHEDULE_KEYS[type];
  for (const key of Object.keys(cfg)) {
    if (key !== 'type' && !required.includes(key) && !optional.includes(key)) {
      fail(where, `unknown option 'learningRate.${key}' for a '${type}' schedule; valid: ${[...required, ...optional].join(', ')}`);
    }
  }
  for (const key of required) {
    if (cfg[key] === undefined) fail(where, `learningRate.${key} is required for a '${type}' schedule`);
  }
  const initial = finiteNonNegative(where, 'learningRate.initial', cfg.initial);
  switch (type) {
    case 'exponential': {
      const decayRate = positive(where, 'learningRate.decayRate', cfg.decayRate);
      const decaySteps = positive(where, 'learningRate.decaySteps', cfg.decaySteps);
      const staircase = checkBoolean(where, 'learningRate.staircase', cfg.staircase, false);
      return { type, initial, decayRate, decaySteps, staircase };
    }
    case 'step': {
      const factor = positive(where, 'learningRate.factor', cfg.factor);
      const stepSize = checkPositiveInt(where, 'learningRate.stepSize', cfg.stepSize);
      return { type, initial, factor, stepSize };
    }
    case 'cosine': {
      const decaySteps = positive(where, 'learningRate.decaySteps', cfg.decaySteps);
      const minimum = finiteNonNegative(where, 'learningRate.minimum', cfg.minimum ?? 0);
      if (minimum > initial) {
        fail(where, `learningRate.minimum (${minimum}) must not exceed learningRate.initial (${initial})`);
      }
      return { type, initial, decaySteps, minimum };
    }
  }
}

/** The learning rate after `t` steps (t = 0 for the first step). */
export function learningRateAt(schedule: LearningRate, t: number): number {
  if (typeof schedule === 'number') return schedule;
  switch (schedule.type) {
    case 'exponential': {
      const p = t / schedule.decaySteps;
      return schedule.initial * schedule.decayRate ** (schedule.staircase ? Math.floor(p) : p);
    }
    case 'step':
      return schedule.initial * schedule.factor ** Math.floor(t / schedule.stepSize);
    case 'cosine': {
      const minimum = schedule.minimum ?? 0;
      const progress = Math.min(t, schedule.decaySteps) / schedule.decaySteps;
      return minimum + (schedule.initial - minimum) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
  }
}

/** A JSON copy of a (parsed) learning-rate config. */
export function learningRateConfig(schedule: LearningRate): LearningRate {
  return typeof schedule === 'number' ? schedule : { ...schedule };
}
