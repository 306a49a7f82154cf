/** Fills `view` with deterministic pseudo-random values in [-1, 1) (xorshift32 from `seed`). */
export declare function fillRandom(view: Float32Array, seed: number): void;
