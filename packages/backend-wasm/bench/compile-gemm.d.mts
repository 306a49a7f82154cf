/** Path of assembly/gemm.ts. */
export declare const gemmSource: string;
/** Compiles an AssemblyScript GEMM source (default assembly/gemm.ts) alone, with the package's flags (plus `flags`). */
export declare function compileGemm(source?: string, flags?: string[]): Promise<WebAssembly.Module>;
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
