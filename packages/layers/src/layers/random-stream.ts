import { checkFiniteNumber, createRandom, type Random } from '@backprop/tensor';

/**
 * The random numbers of a layer that draws while training (Dropout, the augmentation
 * layers). The stream's seed is the layer's `seed` option or, without one, a number
 * drawn from the model's seeded generator when the layer is built: the same model seed
 * gives the same masks and transforms, run after run. Training forward k uses the
 * generator seeded by (seed, k), so `restart` replays the draws from the start, and a
 * checkpoint that saves the position k (`randomStreams` in a saved model's manifest)
 * lets a resumed run draw what the uninterrupted run would have.
 */
export class RandomStream {
  private seed = 0;
  private draws = 0;

  /** `seed`: the layer option, already checked (undefined: take one from the model at build). */
  constructor(private readonly fixedSeed: number | undefined) {}

  /** At build: the layer's own seed, or one from the model's generator (its per-layer fork). */
  start(modelRng: Random): void {
    this.seed = this.fixedSeed ?? Math.floor(modelRng.next() * 4294967296);
    this.draws = 0;
  }

  /** The generator of the next training forward. */
  next(): Random {
    // Each forward's generator is seeded by a mix of (seed, k) (golden-ratio multiply of the seed, as @backprop/tensor's seededOrder does; k gets its own multiplier).
    return createRandom((Math.imul(this.seed | 0, 0x9e3779b1) ^ Math.imul(this.draws++ + 1, 0x85ebca6b)) >>> 0);
  }

  restart(): void {
    this.draws = 0;
  }

  /** The number of training forwards drawn so far: the next one uses the generator of (seed, position). */
  get position(): number {
    return this.draws;
  }

  /** Moves to `position` (a non-negative integer, checked by the caller): the next forward draws what forward `position` did. */
  seek(position: number): void {
    this.draws = position;
  }
}

/** The optional `seed` option of a random layer: a finite number (it is truncated to an integer, as createRandom does). */
export function checkSeed(where: string, seed: unknown): number | undefined {
  return seed === undefined ? undefined : Math.trunc(checkFiniteNumber(where, 'seed', seed));
}
