// Backprop adapter with backend-cpu on 2 threads (worker_threads): the same models and
// kernels as backprop-cpu.mjs; matMul and the conv kernels split their outputs over threads.
import { cpuBackendWithThreads } from '@backprop/backend-cpu';
import * as single from './backprop-cpu.mjs';

export const name = 'backprop-cpu-threads';
export const label = 'Backprop (backend-cpu, 2 threads)';

export async function init() {
  const info = await single.init(cpuBackendWithThreads(2));
  if (!info.notes.includes('2 threads')) throw new Error(`backend-cpu did not start its worker: ${info.notes}`);
  // Let the worker start before anything is timed.
  await new Promise((r) => setTimeout(r, 200));
  return info;
}

export const build = single.build;
export const kernels = single.kernels;
export const countArgmax = single.countArgmax;
