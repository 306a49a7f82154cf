// headless-gl mode: needs the `gl` package built (Debian libxi-dev at install time) and
// an X display (a private Xvfb is started when $DISPLAY is unset, like `xvfb-run -a`).
// Runs in its own process (vitest pool 'forks'): headless-gl and Dawn cannot share one.
import { describeBackendConformance } from '@backprop/tensor/testing';
import { afterAll, beforeAll } from 'vitest';
import * as lib from '../src/index.js';
import { defineTrainingTests, defineTrapTests, yieldBetweenTests } from './suites.js';
import { ensureDisplay, stopDisplay } from './xvfb.js';

beforeAll(async () => {
  await ensureDisplay();
});
afterAll(() => stopDisplay());
yieldBetweenTests();

describeBackendConformance('backend-gpujs headlessgl mode', lib.gpujsBackend({ mode: 'headlessgl' }), { backendName: 'gpujs', dtypes: ['float32'] });
defineTrapTests('headlessgl', lib);
defineTrainingTests('headlessgl', lib);
