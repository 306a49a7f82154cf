/**
 * A tiny in-page stand-in for 'vitest' (test/browser.test.ts aliases the module to this
 * file when it bundles the page), so the real suites — `describeBackendConformance`, the
 * traps and the training tests of suites.ts — run unchanged in Chromium. `expect` is
 * vitest's own (@vitest/expect on chai, set up as vitest does), so every matcher and
 * message is the same; describe/it/hooks are collected into a tree and run in order.
 */
import * as chai from 'chai';
import { ASYMMETRIC_MATCHERS_OBJECT, GLOBAL_EXPECT, JestAsymmetricMatchers, JestChaiExpect, JestExtend, getState, setState } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

type Fn = () => unknown | Promise<unknown>;
interface TestCase {
  kind: 'test';
  name: string;
  fn: Fn;
  skip: boolean;
}
interface Suite {
  kind: 'suite';
  name: string;
  children: (Suite | TestCase)[];
  beforeAll: Fn[];
  afterAll: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
}

const newSuite = (name: string): Suite => ({ kind: 'suite', name, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] });
const root = newSuite('');
let current = root;

export function describe(name: string, fn: () => void): void {
  const suite = newSuite(name);
  current.children.push(suite);
  const parent = current;
  current = suite;
  try {
    fn();
  } finally {
    current = parent;
  }
}

function addTest(name: string, fn: Fn, skip: boolean): void {
  current.children.push({ kind: 'test', name, fn, skip });
}

export const it = Object.assign((name: string, fn: Fn) => addTest(name, fn, false), {
  skip: (name: string, fn: Fn) => addTest(name, fn, true),
});
export const test = it;
export const beforeAll = (fn: Fn): void => void current.beforeAll.push(fn);
export const afterAll = (fn: Fn): void => void current.afterAll.push(fn);
export const beforeEach = (fn: Fn): void => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn): void => void current.afterEach.push(fn);

/** vitest's createExpect without a runner: chai's expect with the Jest matchers and an assertion counter. */
function createExpect(): typeof chai.expect & { getState(): unknown; setState(state: unknown): void } {
  const expect = ((value: unknown, message?: string) => {
    const { assertionCalls } = getState(expect as never) as { assertionCalls: number };
    setState({ assertionCalls: assertionCalls + 1 }, expect as never);
    return chai.expect(value, message);
  }) as unknown as typeof chai.expect & { getState(): unknown; setState(state: unknown): void; extend(m: unknown): void };
  Object.assign(expect, chai.expect);
  Object.assign(expect, (globalThis as Record<symbol, unknown>)[ASYMMETRIC_MATCHERS_OBJECT as symbol]);
  expect.getState = () => getState(expect as never);
  expect.setState = (state: unknown) => setState(state as never, expect as never);
  setState({ assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null, expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null }, expect as never);
  expect.extend = (matchers: unknown) => (chai.expect as unknown as { extend(e: unknown, m: unknown): void }).extend(expect, matchers);
  return expect;
}

export const expect = createExpect();
(globalThis as Record<symbol, unknown>)[GLOBAL_EXPECT as symbol] = expect;

export interface HarnessResult {
  passed: string[];
  failed: { name: string; error: string }[];
  skipped: string[];
  seconds: number;
  /** Slowest tests, for the log. */
  slowest: { name: string; seconds: number }[];
}

/** Runs every registered test in order (hooks as vitest runs them) and reports. */
export async function runRegistered(onProgress?: (done: number) => void): Promise<HarnessResult> {
  const result: HarnessResult = { passed: [], failed: [], skipped: [], seconds: 0, slowest: [] };
  const timings: { name: string; seconds: number }[] = [];
  const started = performance.now();
  const message = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  const runSuite = async (suite: Suite, path: string[], each: { before: Fn[]; after: Fn[] }): Promise<void> => {
    const names = suite.name ? [...path, suite.name] : path;
    const hooks = { before: [...each.before, ...suite.beforeEach], after: [...suite.afterEach, ...each.after] };
    const hasTests = (s: Suite): boolean => s.children.some((c) => (c.kind === 'test' ? !c.skip : hasTests(c)));
    if (!hasTests(suite)) {
      for (const child of suite.children) {
        if (child.kind === 'test') result.skipped.push([...names, child.name].join(' > '));
        else await runSuite(child, names, hooks);
      }
      return;
    }
    let setupError: unknown = null;
    for (const fn of suite.beforeAll) {
      try {
        await fn();
      } catch (e) {
        setupError ??= e;
      }
    }
    for (const child of suite.children) {
      if (child.kind === 'suite') {
        await runSuite(child, names, hooks);
        continue;
      }
      const name = [...names, child.name].join(' > ');
      if (child.skip) {
        result.skipped.push(name);
        continue;
      }
      const t0 = performance.now();
      let error: unknown = setupError;
      if (!error) {
        try {
          for (const fn of hooks.before) await fn();
          await child.fn();
        } catch (e) {
          error = e;
        }
        for (const fn of hooks.after) {
          try {
            await fn();
          } catch (e) {
            error ??= e;
          }
        }
      }
      timings.push({ name, seconds: (performance.now() - t0) / 1000 });
      if (error) result.failed.push({ name, error: message(error) });
      else result.passed.push(name);
      onProgress?.(result.passed.length + result.failed.length);
      // Let the page breathe (and the test driver poll) between tests.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    for (const fn of suite.afterAll) {
      try {
        await fn();
      } catch (e) {
        result.failed.push({ name: `${names.join(' > ')} (afterAll)`, error: message(e) });
      }
    }
  };
  await runSuite(root, [], { before: [], after: [] });
  result.seconds = (performance.now() - started) / 1000;
  result.slowest = timings.sort((a, b) => b.seconds - a.seconds).slice(0, 5);
  return result;
}
