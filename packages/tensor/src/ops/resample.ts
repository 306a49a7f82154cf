import { BackpropError, shapeToString } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkFloatTensor, checkRank, checkSameDtype, checkTensor } from '../validation.js';

/**
 * Resamples each image of x (N, C, H, W) by its own affine map, bilinearly, reading 0
 * outside the image (the `affineResample` kernel of the spec). Row n of `transforms`
 * (N, 6) is [a, b, c, d, e, f]: output pixel (row i, column j) reads the input at column
 * a·j + b·i + c and row d·j + e·i + f, in pixel indices. [1, 0, 0, 0, 1, 0] is the identity.
 */
export function affineResample(x: Tensor, transforms: Tensor): Tensor {
  const op = 'affineResample';
  checkTensor(op, 'x', x);
  checkTensor(op, 'transforms', transforms);
  checkRank(op, 'x', x, 4, '(batch, channels, height, width)');
  checkFloatTensor(op, 'x', x);
  checkSameDtype(op, x, transforms, 'x', 'transforms');
  if (transforms.rank !== 2 || transforms.shape[0] !== x.shape[0] || transforms.shape[1] !== 6) {
    throw new BackpropError(op, `transforms must have shape [${x.shape[0]}, 6] (one affine map per image of x), got ${shapeToString(transforms.shape)}`);
  }
  return x.registry.runKernel(op, { x, transforms }, {});
}
