// The module's exports: plain functions over byte offsets into the imported linear memory
// (no AssemblyScript-managed object ever crosses the boundary). One file per kernel family.
export * from './layout';
export * from './elementwise';
export * from './unary';
export * from './activations';
export * from './softmax';
export * from './matmul';
export * from './bias';
export * from './reduce';
export * from './onehot';
export * from './cast';
export * from './conv';
export * from './pool';
export * from './resample';
export * from './heads';
export * from './updates';
export { gemm, gemmScratchBytes } from './gemm';
