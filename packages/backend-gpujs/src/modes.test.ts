// Traps, residency, caching, memory and training parity in the modes without native parts.
import * as lib from './index.js';
import { defineTrainingTests, defineTrapTests, yieldBetweenTests } from '../test/suites.js';

yieldBetweenTests();
for (const mode of ['cpu', 'webasm'] as const) {
  defineTrapTests(mode, lib);
  defineTrainingTests(mode, lib);
}
