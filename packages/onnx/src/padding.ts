import { convOutputSize } from '@backprop/tensor';

/** What "same" padding (TensorFlow's 'same', ONNX's auto_pad SAME_UPPER / SAME_LOWER) asks for along one axis. */
export interface SamePadding {
  /** The output size the format promises: ⌈size / stride⌉. */
  out: number;
  /** Zeros added along the axis in all: max((out − 1)·stride + kernel − size, 0). */
  total: number;
  /**
   * The zeros on each side when `total` splits evenly and Backprop's symmetric padding gives
   * exactly `out` (checked with the shared output-size formula, convOutputSize); undefined when
   * the format would put the odd zero on one side only.
   */
  symmetric: number | undefined;
}

/**
 * The padding "same" implies for `kernel` at `stride` on `size` (dilation 1). TensorFlow and
 * ONNX's SAME_UPPER put an odd extra zero at the end (bottom / right), ONNX's SAME_LOWER at
 * the start; Backprop pads both sides equally, so only an even total maps exactly.
 */
export function samePadding(where: string, size: number, kernel: number, stride: number): SamePadding {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  if (total % 2 !== 0) return { out, total, symmetric: undefined };
  const pad = total / 2;
  return { out, total, symmetric: convOutputSize(where, size, kernel, stride, pad) === out ? pad : undefined };
}
