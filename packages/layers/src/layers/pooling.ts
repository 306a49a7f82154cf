import {
  avgPool,
  avgPoolBackward,
  l2Pool,
  l2PoolBackward,
  maxPool,
  checkIntPair,
  computePool2DInfo,
  maxPoolBackward,
  type Tensor,
} from '@backprop/tensor';
import { Layer, type LayerConfig } from '../layer.js';
import { MAX_LAYER_ARG, type PairArg } from './args.js';

export interface Pool2DConfig extends LayerConfig {
  /** Window k_h × k_w, default 2. */
  poolSize?: PairArg;
  /** Stride S_p, default the window size (apps/docs/math/pooling.md). */
  strides?: PairArg;
}

/**
 * Shared shape logic of the pooling layers: channels unchanged (D2 = D1, fixes E4),
 * H_o = ⌊(H − k)/S_p⌋ + 1 (Eq 2.2 corrected). No parameters.
 */
abstract class Pool2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  protected x: Tensor | undefined;
  protected y: Tensor | undefined;

  constructor(config: Pool2DConfig = {}) {
    super(config);
    const where = `${new.target.name}${config.name ? ` '${config.name}'` : ''}`;
    this.poolSize = checkIntPair(where, 'poolSize', config.poolSize ?? 2, 'positive', MAX_LAYER_ARG);
    this.strides = checkIntPair(where, 'strides', config.strides ?? this.poolSize, 'positive', MAX_LAYER_ARG);
  }

  protected get geometry(): { poolSize: [number, number]; strides: [number, number] } {
    return { poolSize: this.poolSize, strides: this.strides };
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3) {
      throw this.error(`expects a (channels, height, width) input but got [${inputShape.join(', ')}]`);
    }
    // Eq 2.2 with the floor, and the check that the window fits: @backprop/tensor's geometry.
    const [, c, ho, wo] = computePool2DInfo([1, ...inputShape], this.poolSize, this.strides, this.where).outShape;
    return [c, ho, wo];
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, poolSize: this.poolSize, strides: this.strides };
  }
}

/** Y = max over each window (Eq 3.5 fixed, E20); gradient to the first maximum. */
export class MaxPool2D extends Pool2D {
  readonly className = 'MaxPool2D';

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.x = x;
    return maxPool(x, this.geometry);
  }

  backward(dy: Tensor): Tensor {
    return maxPoolBackward(dy, this.requireSaved(this.x), this.geometry);
  }
}

/** Y = window mean; each input receives G/(k_h k_w). */
export class AvgPool2D extends Pool2D {
  readonly className = 'AvgPool2D';

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.x = x;
    return avgPool(x, this.geometry);
  }

  backward(dy: Tensor): Tensor {
    return avgPoolBackward(dy, this.requireSaved(this.x).shape, this.geometry);
  }
}

/** Y = √(Σ window x²); ∂X = G·X/Y (0 where Y = 0). */
export class L2Pool2D extends Pool2D {
  readonly className = 'L2Pool2D';

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.x = x;
    this.y = l2Pool(x, this.geometry);
    return this.y;
  }

  backward(dy: Tensor): Tensor {
    return l2PoolBackward(dy, this.requireSaved(this.x), this.requireSaved(this.y), this.geometry);
  }
}
