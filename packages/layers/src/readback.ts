import type { Tensor, TypedArray } from '@backprop/tensor';

/**
 * A routine that reads tensors back to the host, written once for both kinds of
 * backend: a generator that yields the tensors it needs (read together) and receives
 * their values, in order. The driver is the read strategy: `runSync` reads with
 * `dataSync()`, `runAsync` with `await data()`. Each synchronous method of Sequential
 * and its `…Async` twin run the same routine under the two drivers (as TensorFlow.js's
 * `dataSync()`/`data()`).
 *
 *     function* total(t: Tensor): Reading<number> {
 *       const [values] = yield [t];
 *       return values.reduce((a, b) => a + b, 0);
 *     }
 *     runSync(total(t)); // or: await runAsync(total(t))
 *
 * A routine keeps its state in its own frame, never in shared scratch, so concurrent
 * runs (two `evaluateAsync` calls on one model) cannot see each other's data. A read
 * that fails is thrown into the routine, so its `finally` blocks free what it holds.
 */
export type Reading<R> = Generator<readonly Tensor[], R, TypedArray[]>;

/** Runs a routine reading with `dataSync()`: for backends that read synchronously. */
export function runSync<R>(routine: Reading<R>): R {
  let step = routine.next();
  while (!step.done) {
    let values: TypedArray[];
    try {
      values = step.value.map((t) => t.dataSync());
    } catch (error) {
      step = routine.throw(error);
      continue;
    }
    step = routine.next(values);
  }
  return step.value;
}

/** Runs a routine reading with `await data()`: works on every backend (WebGPU included). */
export async function runAsync<R>(routine: Reading<R>): Promise<R> {
  let step = routine.next();
  while (!step.done) {
    let values: TypedArray[];
    try {
      values = await Promise.all(step.value.map((t) => t.data()));
    } catch (error) {
      step = routine.throw(error);
      continue;
    }
    step = routine.next(values);
  }
  return step.value;
}
