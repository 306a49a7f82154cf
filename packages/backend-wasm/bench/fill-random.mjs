// Deterministic operands for the GEMM benches and tests (also bundled into a browser page, hence
// a file of its own, free of Node imports).

/** Fills `view` with deterministic pseudo-random values in [-1, 1) (xorshift32 from `seed`). */
export function fillRandom(view, seed) {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < view.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    view[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
}
