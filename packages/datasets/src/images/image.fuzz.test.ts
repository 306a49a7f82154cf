import { describe, expect, it } from 'vitest';
import { runImageFuzz } from '../../test/image-fuzz.js';

/**
 * The image-decoding fuzzer in the normal suite: a fixed seed and a bounded run (~6 s, over 1000 files).
 * Run it longer with FUZZ_ITERATIONS=200000 [FUZZ_SEED=7] pnpm --filter @backprop/datasets fuzz.
 */
const requested = process.env.FUZZ_ITERATIONS;
const iterations = requested === undefined ? 20_000 : Number(requested);
const seed = process.env.FUZZ_SEED === undefined ? 20261206 : Number(process.env.FUZZ_SEED);
const long = requested !== undefined;

describe('image decoding fuzz', () => {
  it(
    `every damaged PNG/JPEG decodes to a well-formed image or is refused with an ImageDatasetError naming the file (seed ${seed})`,
    () => {
      const report = runImageFuzz({ iterations, seed, timeBudgetMs: long ? undefined : 6_000 });
      if (long) console.log(JSON.stringify({ seed, ...report }, null, 2));
      expect(report.findings).toEqual([]);
      // Both outcomes happened for every kind of file: the mutations reach the decoders, and some survive.
      const minimum = long ? 10 : 1;
      for (const kind of ['png grey', 'png grey+alpha', 'png rgb', 'png rgba', 'png palette', 'png 1-bit', 'jpeg']) {
        expect(report.outcomes[`${kind} ok`] ?? 0, `${kind} ok`).toBeGreaterThanOrEqual(minimum);
        expect(report.outcomes[`${kind} refused`] ?? 0, `${kind} refused`).toBeGreaterThanOrEqual(minimum);
      }
      expect(report.iterations).toBeGreaterThanOrEqual(long ? iterations : 1000);
    },
    long ? 3_600_000 : 30_000,
  );
});
