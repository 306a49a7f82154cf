/**
 * Runs in Chromium (bundled by test/browser.test.ts with 'vitest' aliased to the in-page
 * harness of backend-gpujs's browser test, built on vitest's own expect): the package's own
 * suites, unchanged, against backend-cpu in the same page —
 *   - describeBackendConformance, with synchronous reads and with `await data()` only
 *     (src/conformance.test.ts): every kernel against the CPU reference;
 *   - the paper and LeNet presets trained a few steps on both backends, losses and weights
 *     compared, and memory back to its baseline after a step (src/training.test.ts).
 * The kernels are compiled asynchronously first, as the README tells browser users to.
 * The outcome is left on `window.__result`.
 */
import '../../src/conformance.test.js';
import '../../src/training.test.js';
import { type HarnessResult, runRegistered } from '../../../backend-gpujs/test/browser/harness.js';
import { compileWasmKernels, whyWasmUnavailable } from '../../src/index.js';

export interface BrowserResult {
  userAgent: string;
  /** Why the backend cannot run here, or null. */
  unavailable: string | null;
  tests: HarnessResult;
}

async function main(): Promise<BrowserResult> {
  const unavailable = whyWasmUnavailable();
  await compileWasmKernels();
  const tests = await runRegistered((done) => ((globalThis as { __progress?: number }).__progress = done));
  return { userAgent: navigator.userAgent, unavailable, tests };
}

main().then(
  (result) => ((globalThis as { __result?: unknown }).__result = result),
  (error: unknown) => ((globalThis as { __result?: unknown }).__result = { fatal: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) }),
);
