import { describe, expect, it } from 'vitest';
import { createRandom } from '@backprop/tensor';
import { BLOCK_ALIGN, LinearAllocator } from './allocator.js';

const PAGE = 65536;
const fresh = (pages = 1, maxPages = 4, base = 100) => {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: maxPages });
  return { memory, alloc: new LinearAllocator(memory, base, maxPages * PAGE) };
};

describe('LinearAllocator', () => {
  it('hands out 64-byte aligned blocks above the base, without overlap', () => {
    const { alloc } = fresh();
    const blocks = [1, 3, 64, 65, 100, 4].map((bytes) => ({ at: alloc.alloc(bytes)!, bytes }));
    for (const { at } of blocks) {
      expect(at % BLOCK_ALIGN).toBe(0);
      expect(at).toBeGreaterThanOrEqual(100);
    }
    const sorted = [...blocks].sort((a, b) => a.at - b.at);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i].at).toBeGreaterThanOrEqual(sorted[i - 1].at + LinearAllocator.blockSize(sorted[i - 1].bytes));
    }
  });

  it('reuses a freed block for an allocation that fits, and splits a larger one', () => {
    const { alloc } = fresh();
    const a = alloc.alloc(256)!;
    const b = alloc.alloc(64)!; // keeps a from touching the top
    alloc.free(a, 256);
    expect(alloc.freeBlocks).toBe(1);
    expect(alloc.alloc(64)).toBe(a); // first fit, split
    expect(alloc.alloc(128)).toBe(a + 64); // the rest of the split block
    expect(alloc.alloc(64)).toBe(a + 192);
    expect(alloc.freeBlocks).toBe(0);
    expect(alloc.alloc(64)).toBe(b + 64); // nothing free: from the top
  });

  it('merges a freed block with its free neighbours and lowers the top when the last block goes', () => {
    const { alloc } = fresh();
    const top0 = alloc.heapTop;
    const [a, b, c, d] = [alloc.alloc(64)!, alloc.alloc(64)!, alloc.alloc(64)!, alloc.alloc(64)!];
    alloc.free(a, 64);
    alloc.free(c, 64);
    expect(alloc.freeBlocks).toBe(2);
    alloc.free(b, 64); // joins a and c into one block
    expect(alloc.freeBlocks).toBe(1);
    expect(alloc.alloc(192)).toBe(a);
    alloc.free(a, 192);
    alloc.free(d, 64); // the top block: everything returns to the top
    expect(alloc.freeBlocks).toBe(0);
    expect(alloc.heapTop).toBe(top0);
  });

  it('grows the memory when the top passes its end, and returns null past the maximum', () => {
    const { memory, alloc } = fresh(1, 3);
    const before = memory.buffer;
    const big = alloc.alloc(PAGE)!; // more than what is left of page 1
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(big + PAGE);
    expect(before.byteLength, 'the old buffer is detached by grow').toBe(0);
    expect(alloc.alloc(2 * PAGE)).toBeNull(); // would pass 3 pages
    expect(alloc.alloc(1024)).not.toBeNull(); // a failed allocation changes nothing
  });

  it('random allocations and frees never overlap, and freeing everything returns the heap to its start', () => {
    const { memory, alloc } = fresh(1, 64);
    const top0 = alloc.heapTop;
    const rng = createRandom(11);
    const live: { at: number; bytes: number }[] = [];
    for (let step = 0; step < 3000; step++) {
      if (live.length > 0 && rng.uniform(0, 1) < 0.45) {
        const [block] = live.splice(rng.int(live.length), 1);
        alloc.free(block.at, block.bytes);
      } else {
        const bytes = 1 + rng.int(rng.uniform(0, 1) < 0.1 ? 40000 : 700);
        const at = alloc.alloc(bytes)!;
        expect(at % BLOCK_ALIGN).toBe(0);
        expect(at + bytes).toBeLessThanOrEqual(memory.buffer.byteLength);
        live.push({ at, bytes });
      }
      if (step % 100 === 0) {
        const sorted = [...live].sort((a, b) => a.at - b.at);
        for (let i = 1; i < sorted.length; i++) expect(sorted[i].at, `step ${step}`).toBeGreaterThanOrEqual(sorted[i - 1].at + sorted[i - 1].bytes);
      }
    }
    for (const block of rng.shuffle(live)) alloc.free(block.at, block.bytes);
    expect(alloc.freeBlocks).toBe(0);
    expect(alloc.heapTop).toBe(top0);
  });
});
