import { sizeOfShape, type Tensor } from '@backprop/tensor';
import { Layer } from '../layer.js';

/**
 * (N, C, H, W) → (N, C·H·W) with (c, h, w) ↦ cHW + hW + w (apps/docs/math/dense.md, Eq 3.6;
 * PyTorch order). Backward is the inverse reshape (Eq 3.65): no arithmetic.
 */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  private xShape: readonly number[] | undefined;

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [sizeOfShape(inputShape)];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    this.xShape = x.shape;
    return x.reshape([x.shape[0], -1]);
  }

  backward(dy: Tensor): Tensor {
    return dy.reshape(this.requireSaved(this.xShape));
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}
