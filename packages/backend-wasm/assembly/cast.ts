import { DTYPE_F32, DTYPE_F64 } from './codes';

// Element-wise conversion between the storage dtypes (codes.ts: DTYPE_F32, DTYPE_F64, DTYPE_I32).
// Float → int32 truncates toward zero; NaN gives 0 and values beyond the int32 range saturate
// (nontrapping-f2i, on by default in AssemblyScript; JavaScript's ToInt32 would wrap them modulo 2³²).
export function cast(x: usize, from: i32, o: usize, to: i32, n: i32): void {
  if (from == to) {
    memory.copy(o, x, <usize>n * (from == DTYPE_F64 ? 8 : 4));
    return;
  }
  for (let i = 0; i < n; i++) {
    const s = from == DTYPE_F64 ? x + (<usize>i << 3) : x + (<usize>i << 2);
    const v: f64 = from == DTYPE_F32 ? <f64>load<f32>(s) : from == DTYPE_F64 ? load<f64>(s) : <f64>load<i32>(s);
    if (to == DTYPE_F32) store<f32>(o + (<usize>i << 2), <f32>v);
    else if (to == DTYPE_F64) store<f64>(o + (<usize>i << 3), v);
    else store<i32>(o + (<usize>i << 2), <i32>v);
  }
}
