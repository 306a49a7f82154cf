import { DTYPE_F32, DTYPE_F64 } from './codes';

// (n) int32 labels → (n, depth) with 1 at the label, in the output dtype (codes.ts: DTYPE_F32, DTYPE_F64, DTYPE_I32).
// The op validated the labels; an out-of-range one would leave its row zero, never write outside it.
export function oneHot(indices: usize, o: usize, n: i32, depth: i32, dtype: i32): void {
  const bytes: usize = dtype == DTYPE_F64 ? 8 : 4;
  memory.fill(o, 0, <usize>n * <usize>depth * bytes);
  for (let i = 0; i < n; i++) {
    const label = load<i32>(indices + (<usize>i << 2));
    if (<u32>label >= <u32>depth) continue;
    const p = o + (<usize>i * <usize>depth + <usize>label) * bytes;
    if (dtype == DTYPE_F32) store<f32>(p, 1);
    else if (dtype == DTYPE_F64) store<f64>(p, 1);
    else store<i32>(p, 1);
  }
}
