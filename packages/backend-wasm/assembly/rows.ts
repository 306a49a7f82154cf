// Helpers of the row-wise kernels (softmax.ts, heads.ts); not exported from the module.

/** The row's maximum; the first NaN wins. */
// @ts-ignore: decorator
@inline export function rowMax(x: usize, k: i32): f32 {
  let m: f32 = -Infinity;
  for (let j = 0; j < k; j++) {
    const v = load<f32>(x + (<usize>j << 2));
    m = select<f32>(v, m, v > m || v != v);
  }
  return m;
}

