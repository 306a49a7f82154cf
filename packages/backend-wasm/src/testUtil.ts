/** Test helpers shared by this package's tests. */
import { vi } from 'vitest';
import type { WasmBackend } from './backend.js';

/**
 * Records the name of every export `backend.split` runs from now on (one entry per part), so a
 * test can show which path of a kernel ran: 'conv2dWinograd_f32' or 'conv2d_f32',
 * 'conv2dBackwardFilterSparse_f32' or 'conv2dBackwardFilter_f32'.
 */
export function recordSplitExports(backend: WasmBackend): string[] {
  const ran: string[] = [];
  const split = backend.split.bind(backend);
  vi.spyOn(backend, 'split').mockImplementation((kernel, units, flop, scratch, outputs, call) =>
    split(kernel, units, flop, scratch, outputs, (from, to, ptrs) => {
      const exportCall = call(from, to, ptrs);
      ran.push(exportCall.fn);
      return exportCall;
    }),
  );
  return ran;
}
