// The fused epilogue of matMul and conv2d: C ← act(C + bias) in one pass over C, after the
// GEMM (gemm.ts) has written it. matMul's bias runs along the columns (one value per output
// unit), conv2d's along the rows (one value per filter, each row an output plane).
import { activate_f32 } from './activations';

/** C[rows × cols] (contiguous) += bias[col] for every row, then the activation. */
export function biasColumnsActivate_f32(c: usize, rows: i32, cols: i32, bias: usize, hasBias: bool, act: i32, alpha: f32): void {
  const row = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const cr = c + <usize>r * row;
    if (hasBias) {
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const k = <usize>j << 2;
        v128.store(cr + k, f32x4.add(v128.load(cr + k), v128.load(bias + k)));
      }
      for (; j < cols; j++) {
        const k = <usize>j << 2;
        store<f32>(cr + k, load<f32>(cr + k) + load<f32>(bias + k));
      }
    }
    activate_f32(cr, cr, cols, act, alpha);
  }
}

/** C[rows × cols] (contiguous) += bias[row] along each row, then the activation. */
export function biasRowsActivate_f32(c: usize, rows: i32, cols: i32, bias: usize, hasBias: bool, act: i32, alpha: f32): void {
  const row = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const cr = c + <usize>r * row;
    if (hasBias) {
      const b = load<f32>(bias + (<usize>r << 2));
      const bv = f32x4.splat(b);
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const k = <usize>j << 2;
        v128.store(cr + k, f32x4.add(v128.load(cr + k), bv));
      }
      for (; j < cols; j++) {
        const k = <usize>j << 2;
        store<f32>(cr + k, load<f32>(cr + k) + b);
      }
    }
    activate_f32(cr, cr, cols, act, alpha);
  }
}
