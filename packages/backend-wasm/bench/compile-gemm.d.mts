/** Path of assembly/gemm.ts. */
export declare const gemmSource: string;
/** Path of asconfig.json, whose targets compileGemmBinary builds with. */
export declare const asconfig: string;
/** The wasm bytes of an AssemblyScript GEMM source (default assembly/gemm.ts) compiled alone with an asconfig.json target (default release; threads: a shared memory). */
export declare function compileGemmBinary(source?: string, target?: 'release' | 'threads'): Promise<Uint8Array>;
/** Compiles an AssemblyScript GEMM source (default assembly/gemm.ts) alone with an asconfig.json target (default release). */
export declare function compileGemm(source?: string, target?: 'release' | 'threads'): Promise<WebAssembly.Module>;
export interface GemmInstance {
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number,
    accumulate: boolean, scratch: number,
  ): void;
  gemmScratchBytes(M: number, N: number, K: number): number;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** Reserves `floats` f32s (64-byte aligned) and returns their byte offset. */
  alloc(floats: number): number;
  /** Frees everything alloc handed out. */
  reset(): void;
  f32(at: number, floats: number): Float32Array;
}
export declare function instantiateGemm(module: WebAssembly.Module, pages?: number, options?: { shared?: boolean }): Promise<GemmInstance>;
export { fillRandom } from './fill-random.mjs';
/** Milliseconds of process CPU time (user + system). */
export declare function cpuMs(): number;
/** Milliseconds per call of `fn` on `clock` (default wall time), over `budgetMs` of that clock. */
export declare function timePerCall(fn: () => void, budgetMs: number, clock?: () => number): number;
