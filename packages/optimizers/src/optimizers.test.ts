import { cpuBackend } from '@backprop/backend-cpu';
import { BackpropError, clone, RegistryError, type Optimizer, type Registry, type Tensor } from '@backprop/tensor';
import { testHelpers } from '@backprop/tensor/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  adam,
  getOptimizer,
  learningRateAt,
  momentum,
  OPTIMIZER_FACTORIES,
  optimizersPlugin,
  rmsprop,
  sgd,
  type LearningRate,
} from './index.js';

const { expectClose, f64, newRegistry } = testHelpers(cpuBackend);

let registry: Registry;
beforeEach(() => {
  registry = newRegistry();
});

// ---- independent float64 references (plain JS, never the implementation) -------------------

interface RefOptions {
  lr: (t: number) => number;
  wd: number;
}

type RefState = Record<string, number[]>;

/** One reference step on a flat parameter; `t` is 1-based. Mirrors the textbook rules. */
type RefStep = (theta: number[], g: number[], state: RefState, t: number, o: RefOptions) => void;

const refSgd: RefStep = (theta, g, _s, t, o) => {
  const lr = o.lr(t - 1);
  for (let i = 0; i < theta.length; i++) theta[i] = theta[i] - lr * (g[i] + o.wd * theta[i]);
};

const refMomentum =
  (mu: number, nesterov: boolean): RefStep =>
  (theta, g, s, t, o) => {
    const lr = o.lr(t - 1);
    s.velocity ??= theta.map(() => 0);
    for (let i = 0; i < theta.length; i++) {
      const gi = g[i] + o.wd * theta[i];
      s.velocity[i] = mu * s.velocity[i] + gi;
      theta[i] -= lr * (nesterov ? gi + mu * s.velocity[i] : s.velocity[i]);
    }
  };

const refAdam =
  (b1: number, b2: number, eps: number): RefStep =>
  (theta, g, s, t, o) => {
    const lr = o.lr(t - 1);
    s.m ??= theta.map(() => 0);
    s.v ??= theta.map(() => 0);
    for (let i = 0; i < theta.length; i++) {
      const gi = g[i] + o.wd * theta[i];
      s.m[i] = b1 * s.m[i] + (1 - b1) * gi;
      s.v[i] = b2 * s.v[i] + (1 - b2) * gi * gi;
      const mHat = s.m[i] / (1 - b1 ** t);
      const vHat = s.v[i] / (1 - b2 ** t);
      theta[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  };

const refRmsprop =
  (rho: number, eps: number): RefStep =>
  (theta, g, s, t, o) => {
    const lr = o.lr(t - 1);
    s.meanSquare ??= theta.map(() => 0);
    for (let i = 0; i < theta.length; i++) {
      const gi = g[i] + o.wd * theta[i];
      s.meanSquare[i] = rho * s.meanSquare[i] + (1 - rho) * gi * gi;
      theta[i] -= (lr * gi) / (Math.sqrt(s.meanSquare[i]) + eps);
    }
  };

// Three parameters with made-up gradients for four steps.
const INITIAL: Record<string, { values: number[]; shape: number[] }> = {
  'dense_1/kernel': { values: [0.5, -0.25, 1.0, 0.75], shape: [2, 2] },
  'dense_1/bias': { values: [0.1, -0.2], shape: [2] },
  'conv/kernel': { values: [0.3, -0.6, 0.9], shape: [1, 1, 1, 3] },
};
const GRADS: Array<Record<string, number[]>> = [
  { 'dense_1/kernel': [0.1, -0.2, 0.3, 0.05], 'dense_1/bias': [-0.5, 0.25], 'conv/kernel': [1.0, 0.0, -2.0] },
  { 'dense_1/kernel': [-0.3, 0.1, 0.2, 0.4], 'dense_1/bias': [0.0, 0.75], 'conv/kernel': [0.5, -1.5, 0.25] },
  { 'dense_1/kernel': [0.05, 0.05, -0.6, 0.0], 'dense_1/bias': [0.3, -0.1], 'conv/kernel': [-0.2, 0.8, 1.2] },
  { 'dense_1/kernel': [0.2, -0.4, 0.1, -0.1], 'dense_1/bias': [-0.2, 0.2], 'conv/kernel': [0.0, 0.6, -0.9] },
];

function makeParams(reg: Registry): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, { values, shape }] of Object.entries(INITIAL)) out[name] = f64(reg, values, shape);
  return out;
}

function stepWith(opt: Optimizer, params: Record<string, Tensor>, grads: Record<string, number[]>): void {
  registry.scope(() => {
    opt.step(
      Object.entries(params).map(([name, param]) => ({ name, param, grad: f64(registry, grads[name], [...param.shape]) })),
    );
  });
}

function compareWithReference(opt: Optimizer, ref: RefStep, o: RefOptions): void {
  const params = makeParams(registry);
  const theta: Record<string, number[]> = {};
  const state: Record<string, RefState> = {};
  for (const [name, { values }] of Object.entries(INITIAL)) {
    theta[name] = values.slice();
    state[name] = {};
  }
  GRADS.forEach((grads, k) => {
    expectClose(opt.currentLearningRate(), o.lr(k), 1e-12);
    stepWith(opt, params, grads);
    for (const name of Object.keys(INITIAL)) {
      ref(theta[name], grads[name], state[name], k + 1, o);
      expectClose(params[name].dataSync(), theta[name], 1e-12);
    }
    expect(opt.iterations).toBe(k + 1);
  });
  // The live slots hold the reference state.
  const tensors = opt.getState().tensors;
  for (const name of Object.keys(INITIAL)) {
    for (const [slot, values] of Object.entries(state[name])) expectClose(tensors[`${name}/${slot}`].dataSync(), values, 1e-12);
  }
  expect(Object.keys(tensors).length).toBe(Object.values(state).reduce((n, s) => n + Object.keys(s).length, 0));
}

const constant = (lr: number) => () => lr;

describe('update rules vs float64 references (4 steps, 3 parameters)', () => {
  for (const wd of [0, 0.01]) {
    describe(`weightDecay ${wd}`, () => {
      it('sgd: θ ← θ − α(g + λθ)  (Eq 3.75–3.80)', () => {
        compareWithReference(sgd({ learningRate: 0.1, weightDecay: wd }), refSgd, { lr: constant(0.1), wd });
      });

      it('momentum', () => {
        compareWithReference(momentum({ learningRate: 0.05, momentum: 0.9, weightDecay: wd }), refMomentum(0.9, false), {
          lr: constant(0.05),
          wd,
        });
      });

      it('momentum, Nesterov', () => {
        compareWithReference(
          momentum({ learningRate: 0.05, momentum: 0.8, nesterov: true, weightDecay: wd }),
          refMomentum(0.8, true),
          { lr: constant(0.05), wd },
        );
      });

      it('adam (bias-corrected)', () => {
        compareWithReference(
          adam({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: wd }),
          refAdam(0.9, 0.999, 1e-8),
          { lr: constant(0.01), wd },
        );
      });

      it('adam with other betas and a larger epsilon', () => {
        compareWithReference(
          adam({ learningRate: 0.02, beta1: 0.5, beta2: 0.75, epsilon: 1e-3, weightDecay: wd }),
          refAdam(0.5, 0.75, 1e-3),
          { lr: constant(0.02), wd },
        );
      });

      it('rmsprop', () => {
        compareWithReference(
          rmsprop({ learningRate: 0.01, rho: 0.9, epsilon: 1e-8, weightDecay: wd }),
          refRmsprop(0.9, 1e-8),
          { lr: constant(0.01), wd },
        );
      });
    });
  }

  it('defaults', () => {
    expect(sgd().getConfig()).toEqual({ learningRate: 0.01, weightDecay: 0 });
    expect(momentum().getConfig()).toEqual({ learningRate: 0.01, weightDecay: 0, momentum: 0.9, nesterov: false });
    expect(adam().getConfig()).toEqual({ learningRate: 0.001, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(rmsprop().getConfig()).toEqual({ learningRate: 0.001, weightDecay: 0, rho: 0.9, epsilon: 1e-8 });
    compareWithReference(adam(), refAdam(0.9, 0.999, 1e-8), { lr: constant(0.001), wd: 0 });
  });
});

describe('worked example W9 (apps/docs/math/gradient-descent.md)', () => {
  it('one SGD step: w = (0.5, −0.25, 0.1), g = (−0.9, −1.8, −0.9), α = 0.1 → (0.59, −0.07, 0.19)', () => {
    const w = f64(registry, [0.5, -0.25, 0.1]);
    const opt = sgd({ learningRate: 0.1 });
    opt.step([{ name: 'w', param: w, grad: f64(registry, [-0.9, -1.8, -0.9]) }]);
    expectClose(w.dataSync(), [0.59, -0.07, 0.19]);
    // h = w·σ̃ with σ̃ = (1, 2, 1) gives 0.64 and D = ½(1 − 0.64)² = 0.0648.
    const [a, b, c] = Array.from(w.dataSync());
    expectClose(a + 2 * b + c, 0.64);
    expectClose(0.5 * (1 - (a + 2 * b + c)) ** 2, 0.0648);
  });
});

describe('learning-rate schedules', () => {
  const cases: Array<[LearningRate, number[], number[]]> = [
    [0.3, [0, 1, 100], [0.3, 0.3, 0.3]],
    [
      { type: 'exponential', initial: 0.1, decayRate: 0.5, decaySteps: 2 },
      [0, 1, 2, 3, 4],
      [0.1, 0.1 * Math.SQRT1_2, 0.05, 0.05 * Math.SQRT1_2, 0.025],
    ],
    [
      { type: 'exponential', initial: 0.1, decayRate: 0.5, decaySteps: 2, staircase: true },
      [0, 1, 2, 3, 4],
      [0.1, 0.1, 0.05, 0.05, 0.025],
    ],
    [{ type: 'step', initial: 1, factor: 0.1, stepSize: 3 }, [0, 2, 3, 5, 6], [1, 1, 0.1, 0.1, 0.01]],
    [
      { type: 'cosine', initial: 1, decaySteps: 4, minimum: 0.1 },
      [0, 1, 2, 4, 10],
      [1, 0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2), 0.55, 0.1, 0.1],
    ],
    [{ type: 'cosine', initial: 0.5, decaySteps: 2 }, [0, 1, 2, 3], [0.5, 0.25, 0, 0]],
  ];

  for (const [schedule, steps, expected] of cases) {
    it(JSON.stringify(schedule), () => {
      expectClose(
        steps.map((s) => learningRateAt(schedule, s)),
        expected,
        1e-12,
      );
    });
  }

  it('the optimizer uses α(iterations) for each step', () => {
    const schedule = { type: 'exponential', initial: 0.1, decayRate: 0.5, decaySteps: 2 } as const;
    const lr = (t: number) => 0.1 * 0.5 ** (t / 2);
    compareWithReference(sgd({ learningRate: schedule }), refSgd, { lr, wd: 0 });
    compareWithReference(adam({ learningRate: schedule, weightDecay: 0.01 }), refAdam(0.9, 0.999, 1e-8), { lr, wd: 0.01 });
    const stepLr = (t: number) => 0.2 * 0.5 ** Math.floor(t / 2);
    compareWithReference(
      momentum({ learningRate: { type: 'step', initial: 0.2, factor: 0.5, stepSize: 2 }, nesterov: true }),
      refMomentum(0.9, true),
      { lr: stepLr, wd: 0 },
    );
    const cos = (t: number) => 0.01 + 0.09 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, 3)) / 3));
    compareWithReference(
      rmsprop({ learningRate: { type: 'cosine', initial: 0.1, decaySteps: 3, minimum: 0.01 } }),
      refRmsprop(0.9, 1e-8),
      { lr: cos, wd: 0 },
    );
  });

  it('getConfig keeps the schedule as JSON', () => {
    const opt = adam({ learningRate: { type: 'exponential', initial: 0.1, decayRate: 0.5, decaySteps: 2 } });
    const config = opt.getConfig();
    expect(config.learningRate).toEqual({ type: 'exponential', initial: 0.1, decayRate: 0.5, decaySteps: 2, staircase: false });
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
  });
});

describe('state', () => {
  for (const name of Object.keys(OPTIMIZER_FACTORIES)) {
    it(`${name}: save after 3 steps, restore into a new optimizer, 2 more steps agree exactly`, () => {
      const factory = OPTIMIZER_FACTORIES[name as keyof typeof OPTIMIZER_FACTORIES];
      const config = { learningRate: 0.05, weightDecay: 0.01 };
      const a = factory(config);
      const paramsA = makeParams(registry);
      for (let k = 0; k < 3; k++) stepWith(a, paramsA, GRADS[k]);
      const state = a.getState();
      expect(state.iterations).toBe(3);

      const b = factory(a.getConfig());
      b.setState(state);
      expect(b.iterations).toBe(3);
      expect(b.currentLearningRate()).toBe(a.currentLearningRate());
      const paramsB: Record<string, Tensor> = {};
      for (const [n, p] of Object.entries(paramsA)) paramsB[n] = clone(p);

      for (const grads of [GRADS[3], GRADS[0]]) {
        stepWith(a, paramsA, grads);
        stepWith(b, paramsB, grads);
      }
      // If b shared a's slot tensors, each would have been updated twice per step and diverged.
      for (const n of Object.keys(paramsA)) expect(Array.from(paramsB[n].dataSync())).toEqual(Array.from(paramsA[n].dataSync()));
      expect(b.iterations).toBe(5);
      const sa = a.getState().tensors;
      const sb = b.getState().tensors;
      expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
      for (const key of Object.keys(sa)) {
        expect(sb[key]).not.toBe(sa[key]);
        expect(Array.from(sb[key].dataSync())).toEqual(Array.from(sa[key].dataSync()));
      }
    });
  }

  it('slots are keyed <param name>/<slot>, lazily created, and survive scopes', () => {
    const opt = adam();
    expect(opt.getState()).toEqual({ iterations: 0, tensors: {} });
    const params = makeParams(registry);
    stepWith(opt, params, GRADS[0]);
    const { tensors } = opt.getState();
    expect(Object.keys(tensors).sort()).toEqual(
      ['conv/kernel/m', 'conv/kernel/v', 'dense_1/bias/m', 'dense_1/bias/v', 'dense_1/kernel/m', 'dense_1/kernel/v'].sort(),
    );
    for (const t of Object.values(tensors)) expect(t.isDisposed).toBe(false);
    expect(tensors['dense_1/kernel/m'].shape).toEqual([2, 2]);
    expect(tensors['dense_1/kernel/m'].dtype).toBe('float64');
    expect(Object.keys(momentum().getState().tensors)).toEqual([]);
  });

  it('dispose frees the slots; steps leak nothing', () => {
    const params = makeParams(registry);
    const before = registry.memory().numTensors;
    const opt = rmsprop();
    stepWith(opt, params, GRADS[0]);
    expect(registry.memory().numTensors).toBe(before + 3);
    stepWith(opt, params, GRADS[1]);
    expect(registry.memory().numTensors).toBe(before + 3);
    const slots = Object.values(opt.getState().tensors);
    opt.dispose();
    expect(registry.memory().numTensors).toBe(before);
    expect(slots.every((t) => t.isDisposed)).toBe(true);
    expect(() => opt.step([])).toThrow(/rmsprop: step called after dispose/);
  });

  it('setState copies, casts to the parameter dtype, and rejects unknown slots', () => {
    const opt = momentum({ learningRate: 0.1, momentum: 0.5 });
    const velocity = registry.makeTensor([1, 1], [2], 'float32');
    opt.setState({ iterations: 7, tensors: { 'w/velocity': velocity } });
    expect(opt.iterations).toBe(7);
    const live = opt.getState().tensors['w/velocity'];
    expect(live).not.toBe(velocity);
    velocity.dispose();
    const w = f64(registry, [0, 0]);
    opt.step([{ name: 'w', param: w, grad: f64(registry, [1, -1]) }]);
    // v = 0.5·1 + g = (1.5, −0.5); w = −0.1·v.
    expectClose(w.dataSync(), [-0.15, 0.05], 1e-12);
    expect(opt.getState().tensors['w/velocity'].dtype).toBe('float64');
    expect(() => opt.setState({ iterations: 0, tensors: { 'w/m': f64(registry, [0, 0]) } })).toThrow(
      /momentum.setState: unknown state tensor 'w\/m'; expected '<param name>\/<slot>' with slot 'velocity'/,
    );
    expect(() => opt.setState({ iterations: -1, tensors: {} })).toThrow('momentum.setState: iterations must be a non-negative integer, got -1');
    expect(() => sgd().setState({ iterations: 1, tensors: { 'w/velocity': f64(registry, [0]) } })).toThrow(
      /this optimizer keeps no state/,
    );
  });
});

describe('validation', () => {
  it('rejects unknown options and bad values, naming the optimizer and the option', () => {
    expect(() => adam({ beta3: 0.5 })).toThrow(
      "adam: unknown option 'beta3'; valid options: learningRate, weightDecay, beta1, beta2, epsilon",
    );
    expect(() => sgd({ learningRate: -1 })).toThrow('sgd: learningRate must be a finite number ≥ 0, got -1');
    expect(() => sgd({ learningRate: Number.NaN })).toThrow(/sgd: learningRate must be a finite number/);
    expect(() => adam({ beta1: 1 })).toThrow('adam: beta1 must be a number in [0, 1), got 1');
    expect(() => adam({ beta2: -0.1 })).toThrow('adam: beta2 must be a number in [0, 1), got -0.1');
    expect(() => adam({ epsilon: 0 })).toThrow('adam: epsilon must be a finite number > 0, got 0');
    expect(() => rmsprop({ rho: 1.2 })).toThrow('rmsprop: rho must be a number in [0, 1), got 1.2');
    expect(() => momentum({ momentum: 1.5 })).toThrow('momentum: momentum must be a number in [0, 1], got 1.5');
    expect(() => momentum({ nesterov: 'yes' })).toThrow("momentum: nesterov must be true or false, got 'yes'");
    expect(() => sgd({ weightDecay: -0.1 })).toThrow('sgd: weightDecay must be a finite number ≥ 0, got -0.1');
    expect(() => sgd({ momentum: 0.9 })).toThrow("sgd: unknown option 'momentum'");
    let caught: unknown;
    try {
      rmsprop({ rho: 2 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BackpropError);
    expect((caught as BackpropError).where).toBe('rmsprop');
  });

  it('validates schedules', () => {
    expect(() => sgd({ learningRate: { type: 'linear', initial: 1 } })).toThrow(
      "sgd: learningRate.type must be 'exponential', 'step' or 'cosine', got 'linear'",
    );
    expect(() => sgd({ learningRate: { type: 'exponential', initial: 1, decayRate: -0.5, decaySteps: 10 } })).toThrow(
      'sgd: learningRate.decayRate must be a finite number > 0, got -0.5',
    );
    expect(() => adam({ learningRate: { type: 'step', initial: 1, factor: 0.5 } })).toThrow(
      "adam: learningRate.stepSize is required for a 'step' schedule",
    );
    expect(() => adam({ learningRate: { type: 'step', initial: 1, factor: 0.5, stepSize: 1.5 } })).toThrow(
      'adam: learningRate.stepSize must be a positive integer, got 1.5',
    );
    expect(() => adam({ learningRate: { type: 'cosine', initial: 1, decaySteps: 5, warmup: 2 } })).toThrow(
      "adam: unknown option 'learningRate.warmup' for a 'cosine' schedule",
    );
    expect(() => adam({ learningRate: { type: 'cosine', initial: 0.1, decaySteps: 5, minimum: 0.5 } })).toThrow(
      /adam: learningRate.minimum \(0.5\) must not exceed learningRate.initial \(0.1\)/,
    );
    expect(() => adam({ learningRate: { type: 'exponential', initial: -1, decayRate: 0.5, decaySteps: 2 } })).toThrow(
      'adam: learningRate.initial must be a finite number ≥ 0, got -1',
    );
  });

  it('step checks every entry with the update ops\' checks, naming the optimizer and the parameter, before updating anything', () => {
    const w = f64(registry, [1, 2]);
    const opt = momentum({ learningRate: 1 });
    const bad = (entries: unknown) => () => opt.step(entries as never);
    expect(bad([{ name: 'w', param: w, grad: f64(registry, [1, 1]) }, { name: 'b', param: 3, grad: f64(registry, [1]) }])).toThrow(
      "momentum (parameter 'b'): 'param' must be a Tensor, got 3",
    );
    expect(bad([{ name: 'i', param: registry.makeTensor([1], [1], 'int32'), grad: registry.makeTensor([1], [1], 'int32') }])).toThrow(
      "momentum (parameter 'i'): 'param' must be float32 or float64, got int32",
    );
    expect(bad([{ name: '', param: w, grad: w }])).toThrow("momentum: params[0].name must be a non-empty string, got ''");
    expect(bad([null])).toThrow('momentum: params[0] must be { name, param, grad }, got null');
    const disposed = f64(registry, [1, 1]);
    disposed.dispose();
    expect(bad([{ name: 'w', param: w, grad: disposed }])).toThrow(/^momentum \(parameter 'w'\): tensor #\d+ with shape \[2\] was disposed/);
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(opt.iterations).toBe(0);
    expect(opt.getState().tensors).toEqual({});
  });

  it('a schedule whose rate overflows stops the step with an error naming the optimizer and the step', () => {
    const w = f64(registry, [1]);
    const opt = sgd({ learningRate: { type: 'exponential', initial: 1, decayRate: 1e300, decaySteps: 1 } });
    const g = f64(registry, [0]);
    opt.step([{ name: 'w', param: w, grad: g }]);
    opt.step([{ name: 'w', param: w, grad: g }]);
    expect(() => opt.step([{ name: 'w', param: w, grad: g }])).toThrow('sgd: learningRate at step 3 must be a finite number ≥ 0, got Infinity');
    expect(opt.iterations).toBe(2);
  });

  it('setState names the optimizer call and the state entry', () => {
    const opt = momentum();
    expect(() => opt.setState(null as never)).toThrow('momentum.setState: state must be { iterations, tensors }, got null');
    expect(() => opt.setState({ iterations: 1.5, tensors: {} })).toThrow('momentum.setState: iterations must be a non-negative integer, got 1.5');
    expect(() => opt.setState({ iterations: 0, tensors: { 'w/velocity': 3 as never } })).toThrow(
      "momentum.setState: 'w/velocity' must be a Tensor, got 3",
    );
  });

  it('step rejects mismatched gradients and duplicate names before updating anything', () => {
    const w = f64(registry, [1, 2]);
    const b = f64(registry, [3]);
    const opt = sgd({ learningRate: 1 });
    expect(() =>
      opt.step([
        { name: 'w', param: w, grad: f64(registry, [1, 1]) },
        { name: 'b', param: b, grad: f64(registry, [1, 1]) },
      ]),
    ).toThrow("sgd (parameter 'b'): 'param' and 'grad' must have the same shape, got [1] and [2]");
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(opt.iterations).toBe(0);
    expect(() =>
      opt.step([
        { name: 'w', param: w, grad: f64(registry, [1, 1]) },
        { name: 'w', param: w, grad: f64(registry, [1, 1]) },
      ]),
    ).toThrow("sgd: parameter 'w' appears twice in one step");
    expect(() => opt.step([{ name: 'w', param: w, grad: registry.makeTensor([1, 1], [2], 'float32') }])).toThrow(
      "sgd (parameter 'w'): 'param' is float64 but 'grad' is float32; cast one of them first",
    );
    const m = adam();
    m.step([{ name: 'w', param: w, grad: f64(registry, [1, 1]) }]);
    expect(() => m.step([{ name: 'w', param: b, grad: f64(registry, [1]) }])).toThrow(
      "adam (parameter 'w'): 'param' and 'm' must have the same shape, got [1] and [2]",
    );
  });
});

describe('registry', () => {
  it('optimizersPlugin registers sgd, momentum, adam, rmsprop', () => {
    registry.use(optimizersPlugin);
    expect(registry.optimizers.names()).toEqual(['adam', 'momentum', 'rmsprop', 'sgd']);
    for (const name of registry.optimizers.names()) expect(registry.optimizers.get(name)().name).toBe(name);
  });

  it('getConfig round-trips through the factory and getOptimizer', () => {
    registry.use(optimizersPlugin);
    const configs: Record<string, Record<string, unknown>> = {
      sgd: { learningRate: 0.2, weightDecay: 0.001 },
      momentum: { learningRate: { type: 'step', initial: 0.1, factor: 0.5, stepSize: 10 }, momentum: 0.8, nesterov: true },
      adam: { learningRate: { type: 'cosine', initial: 0.01, decaySteps: 100 }, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 },
      rmsprop: { rho: 0.95, epsilon: 1e-4, weightDecay: 0.1 },
    };
    for (const [name, config] of Object.entries(configs)) {
      const opt = registry.optimizers.get(name)(config);
      const json = JSON.parse(JSON.stringify({ name: opt.name, config: opt.getConfig() }));
      const again = getOptimizer(json, registry);
      expect(again.name).toBe(name);
      expect(again.getConfig()).toEqual(opt.getConfig());
      expect(registry.optimizers.get(name)(again.getConfig()).getConfig()).toEqual(opt.getConfig());
    }
  });

  it('getOptimizer resolves names and Optimizer objects', () => {
    const opt = getOptimizer('adam', registry);
    expect(opt.name).toBe('adam');
    expect(getOptimizer(opt, registry)).toBe(opt);
    expect(() => getOptimizer('adagrad', registry)).toThrow(RegistryError);
    expect(() => getOptimizer('adagrad', registry)).toThrow(/unknown optimizer 'adagrad'/);
    expect(() => getOptimizer(3 as never, registry)).toThrow("optimizer: expected the name of a registered optimizer or { name, config }, got 3");
  });

  it('the register entry installs into the default registry', async () => {
    const { defaultRegistry } = await import('@backprop/tensor');
    await import('./register.js');
    expect(defaultRegistry.optimizers.has('rmsprop')).toBe(true);
  });
});
