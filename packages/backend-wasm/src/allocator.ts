/**
 * The allocator of the wasm backend's linear memory, on the JavaScript side (the module has
 * no allocator of its own: `--runtime stub`, and kernels only ever see pointers).
 *
 * Blocks are 64-byte aligned and sized (a cache line, and the GEMM's packed panels want 64;
 * SIMD loads want 16). Free blocks sit in one list sorted by address; `alloc` takes the first
 * one that fits (splitting off the rest), `free` puts a block back and merges it with its
 * free neighbours, and a free block that ends at the top of the heap lowers the top instead,
 * so a training loop that frees and re-allocates the same sizes every step reuses the same
 * blocks and the heap stops growing after the first step. Memory grows in pages
 * (`memory.grow`) when the top passes its end; it never shrinks (wasm memories cannot).
 */
export const BLOCK_ALIGN = 64;
const PAGE = 65536;

export class LinearAllocator {
  /** Start addresses of the free blocks, ascending; `freeSizes[i]` is the size of block i. */
  private readonly freeStarts: number[] = [];
  private readonly freeSizes: number[] = [];
  /** End of the highest block ever handed out and not returned to the top. */
  private top: number;

  /**
   * @param memory the linear memory (grown here)
   * @param base the first address that may be handed out (after the module's static data)
   * @param maxBytes the memory's maximum size in bytes
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    readonly base: number,
    readonly maxBytes: number,
  ) {
    this.top = roundUp(base, BLOCK_ALIGN);
  }

  /** Bytes between the start of memory and the top of the heap (static data included). */
  get heapTop(): number {
    return this.top;
  }

  /** Free blocks currently held for reuse (below the top). */
  get freeBlocks(): number {
    return this.freeStarts.length;
  }

  /** The block size `alloc(bytes)` takes. */
  static blockSize(bytes: number): number {
    return roundUp(Math.max(bytes, 1), BLOCK_ALIGN);
  }

  /**
   * A block of at least `bytes` bytes, 64-byte aligned; its size is `blockSize(bytes)`. Returns
   * null when the memory cannot grow enough (the caller names what it was allocating).
   * Existing typed-array views of the memory may be detached afterwards: re-derive them.
   */
  alloc(bytes: number): number | null {
    const size = LinearAllocator.blockSize(bytes);
    const starts = this.freeStarts, sizes = this.freeSizes;
    for (let i = 0; i < starts.length; i++) {
      if (sizes[i] < size) continue;
      const at = starts[i];
      if (sizes[i] === size) {
        starts.splice(i, 1);
        sizes.splice(i, 1);
      } else {
        starts[i] += size;
        sizes[i] -= size;
      }
      return at;
    }
    const at = this.top;
    if (!this.ensure(at + size)) return null;
    this.top = at + size;
    return at;
  }

  /** Returns a block from `alloc` (with the same `bytes`). */
  free(at: number, bytes: number): void {
    let start = at, size = LinearAllocator.blockSize(bytes);
    const starts = this.freeStarts, sizes = this.freeSizes;
    // Index of the first free block after this one.
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    // Merge with the free block just before and the one just after.
    if (lo > 0 && starts[lo - 1] + sizes[lo - 1] === start) {
      lo--;
      start = starts[lo];
      size += sizes[lo];
      starts.splice(lo, 1);
      sizes.splice(lo, 1);
    }
    if (lo < starts.length && start + size === starts[lo]) {
      size += sizes[lo];
      starts.splice(lo, 1);
      sizes.splice(lo, 1);
    }
    if (start + size === this.top) {
      this.top = start;
      return;
    }
    starts.splice(lo, 0, start);
    sizes.splice(lo, 0, size);
  }

  /** Grows the memory so that addresses below `end` exist; false when that passes the maximum. */
  private ensure(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    if (end > this.maxBytes) return false;
    // Grow by at least an eighth of what there is (fewer grows, each one detaches every view).
    const wantPages = Math.ceil((end - have) / PAGE);
    const maxPages = Math.floor(this.maxBytes / PAGE) - have / PAGE;
    const pages = Math.min(maxPages, Math.max(wantPages, Math.ceil(have / PAGE / 8)));
    for (const n of pages > wantPages ? [pages, wantPages] : [wantPages]) {
      try {
        this.memory.grow(n);
        return true;
      } catch {
        // The engine could not reserve that much: try the least that is needed, then give up.
      }
    }
    return false;
  }
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}
