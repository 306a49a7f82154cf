// Bilinear resampling of each image by its own affine map (apps/docs/math/augmentation.md).
// Output pixel (i, j) reads the input at column u = a·j + b·i + c, row v = d·j + e·i + f,
// from its four neighbours; a neighbour outside the image reads 0, a NaN coordinate gives NaN.
// Coordinates and weights are float64 (a map's offsets can be large next to the fractions);
// which neighbours are inside is decided once per pixel, then every channel reuses it.

export function affineResample_f32(x: usize, maps: usize, o: usize, n: i32, c: i32, h: i32, w: i32): void {
  const plane = <usize>h * <usize>w;
  const fh = <f64>h, fw = <f64>w;
  for (let img = 0; img < n; img++) {
    const tp = maps + (<usize>img * 6 << 2);
    const a = <f64>load<f32>(tp), b = <f64>load<f32>(tp, 4), cc = <f64>load<f32>(tp, 8);
    const d = <f64>load<f32>(tp, 12), e = <f64>load<f32>(tp, 16), f = <f64>load<f32>(tp, 20);
    const xImg = x + (<usize>img * <usize>c * plane << 2);
    const oImg = o + (<usize>img * <usize>c * plane << 2);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const u = a * <f64>j + b * <f64>i + cc;
        const v = d * <f64>j + e * <f64>i + f;
        const u0 = Math.floor(u), v0 = Math.floor(v);
        const al = u - u0, be = v - v0;
        const w00 = (1 - be) * (1 - al), w01 = (1 - be) * al, w10 = be * (1 - al), w11 = be * al;
        // Comparisons in float64, so a huge coordinate never wraps an integer; NaN is inside nothing.
        const col0 = u0 >= 0 && u0 < fw, col1 = u0 + 1 >= 0 && u0 + 1 < fw;
        const row0 = v0 >= 0 && v0 < fh, row1 = v0 + 1 >= 0 && v0 + 1 < fh;
        const start: f64 = u != u || v != v ? NaN : 0;
        const iu = <i32>u0, iv = <i32>v0;
        const p00 = (<usize>(iv * w + iu)) << 2;
        const rowBytes = <usize>w << 2;
        const outAt = (<usize>(i * w + j)) << 2;
        for (let ch = 0; ch < c; ch++) {
          const src = xImg + (<usize>ch * plane << 2);
          let s = start;
          if (row0 && col0) s += w00 * <f64>load<f32>(src + p00);
          if (row0 && col1) s += w01 * <f64>load<f32>(src + p00 + 4);
          if (row1 && col0) s += w10 * <f64>load<f32>(src + p00 + rowBytes);
          if (row1 && col1) s += w11 * <f64>load<f32>(src + p00 + rowBytes + 4);
          store<f32>(oImg + (<usize>ch * plane << 2) + outAt, <f32>s);
        }
      }
    }
  }
}
