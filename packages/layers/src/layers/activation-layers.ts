import type { Tensor } from '@backprop/tensor';
import { type ActivationName, activate, activationBackward, checkAlpha } from '../activations.js';
import { type ForwardOptions, Layer, type LayerConfig } from '../layer.js';

/** A parameter-free layer applying one activation of Table 1 (apps/docs/math/activations.md). */
abstract class ActivationLayer extends Layer {
  protected abstract readonly activation: ActivationName;
  readonly alpha: number = 0.01;
  private y: Tensor | undefined;
  private applied: ActivationName = 'linear';

  override get outputActivation(): string {
    return this.activation;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.checkInput(x);
    this.applied = options.skipActivation ? 'linear' : this.activation;
    this.y = activate(this.applied, x, this.alpha);
    return this.y;
  }

  backward(dy: Tensor): Tensor {
    return activationBackward(this.applied, dy, this.requireSaved(this.y), this.alpha);
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}

export class ReLU extends ActivationLayer {
  readonly className = 'ReLU';
  protected readonly activation = 'relu';
}

export interface LeakyReLUConfig extends LayerConfig {
  /** Slope for x ≤ 0, default 0.01 (errata E6 (apps/docs/math/errata.md): a parameter). */
  alpha?: number;
}

export class LeakyReLU extends ActivationLayer {
  readonly className = 'LeakyReLU';
  protected readonly activation = 'leakyRelu';
  override readonly alpha: number;

  constructor(config: LeakyReLUConfig = {}) {
    super(config);
    this.alpha = checkAlpha('LeakyReLU', config.alpha);
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, alpha: this.alpha };
  }
}

export class Sigmoid extends ActivationLayer {
  readonly className = 'Sigmoid';
  protected readonly activation = 'sigmoid';
}

export class Tanh extends ActivationLayer {
  readonly className = 'Tanh';
  protected readonly activation = 'tanh';
}

/** Softmax over the classes of a (batch, classes) input. */
export class Softmax extends ActivationLayer {
  readonly className = 'Softmax';
  protected readonly activation = 'softmax';

  override computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 1) {
      throw this.error(`expects a (classes) input per sample but got [${inputShape.join(', ')}]; add a Flatten layer before it`);
    }
    return [...inputShape];
  }
}
