/**
 * Scratch memory of the kernels: growable Float64 buffers, one per named slot ('gemm.a',
 * 'direct.x'…), reused from call to call. Every kernel loop takes a `Scratch`: on the
 * calling thread it is the backend (CpuBackend.scratch), in a worker the worker's own
 * buffers (threads/worker.ts), so two threads never share a slot.
 */

/** Hands out a Float64 buffer of at least `size` elements for `slot` (contents unspecified). */
export interface Scratch {
  scratch(slot: string, size: number): Float64Array;
}

/**
 * The buffers behind a Scratch. A buffer that is too small is replaced by one at least 1.5×
 * as long, so a slot settles after a few calls. `shared`: on SharedArrayBuffers, for buffers
 * the calling thread hands to workers (a GEMM's result, Winograd's transformed filters).
 */
export class ScratchBuffers implements Scratch {
  private readonly buffers = new Map<string, Float64Array>();

  constructor(private readonly shared = false) {}

  scratch(slot: string, size: number): Float64Array {
    let buf = this.buffers.get(slot);
    if (buf === undefined || buf.length < size) {
      const n = Math.max(size, buf ? Math.ceil(buf.length * 1.5) : 0);
      buf = this.shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
      this.buffers.set(slot, buf);
    }
    return buf;
  }

  /** Drops every buffer. */
  clear(): void {
    this.buffers.clear();
  }
}
