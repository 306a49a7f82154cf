import { describe, expect, it } from 'vitest';
import { runIdxFuzz } from '../test/idx-fuzz.js';

/**
 * The IDX fuzzer in the normal suite: a fixed seed and a bounded run (at most ~8 s even
 * on a slow, shared machine). The same test runs longer with
 *   FUZZ_ITERATIONS=2000000 [FUZZ_SEED=7] pnpm --filter @backprop/datasets fuzz
 * which also prints the outcome counts.
 */
const requested = process.env.FUZZ_ITERATIONS;
const iterations = requested === undefined ? 30_000 : Number(requested);
const seed = process.env.FUZZ_SEED === undefined ? 20240611 : Number(process.env.FUZZ_SEED);
const long = requested !== undefined;

describe('IDX parser fuzz', () => {
  it(
    `every mutated buffer parses exactly as the format says or is refused with a BackpropError (seed ${seed})`,
    () => {
      if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`FUZZ_ITERATIONS must be a positive integer, got ${requested}`);
      if (!Number.isFinite(seed)) throw new Error(`FUZZ_SEED must be a number, got ${process.env.FUZZ_SEED}`);
      const report = runIdxFuzz({ iterations, seed, timeBudgetMs: long ? undefined : 8_000 });
      if (long) console.log(JSON.stringify({ seed, ...report }, null, 2));
      expect(report.findings).toEqual([]);
      // The run exercised both sides of every check, not only one kind of outcome.
      const minimum = Math.min(10, Math.floor(report.iterations / 2000));
      for (const outcome of [
        'parseIdx ok',
        'parseIdx refused: short',
        'parseIdx refused: magic',
        'parseIdx refused: type',
        'parseIdx refused: rank',
        'parseIdx refused: header',
        'parseIdx refused: length',
        'parseIdx refused: not bytes',
        'imageSet ok',
        'imageSet refused: label out of range',
        'imageSet refused: count mismatch',
      ]) {
        expect(report.outcomes[outcome] ?? 0, outcome).toBeGreaterThanOrEqual(minimum);
      }
      expect(report.iterations).toBeGreaterThanOrEqual(long ? iterations : 2_000);
    },
    long ? 3_600_000 : 20_000,
  );
});
