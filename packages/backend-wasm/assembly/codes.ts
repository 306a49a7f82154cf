// Codes shared with the JavaScript side (src/kernels/activations.ts ACTIVATION_CODE, src/backend.ts
// DTYPE_CODE); not exported
// from the module (index.ts does not re-export this file).

/** Fused activations of matMul and conv2d. */
export const ACT_LINEAR: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_LEAKY_RELU: i32 = 4;

/** Storage dtypes of cast and oneHot. */
export const DTYPE_F32: i32 = 0;
export const DTYPE_F64: i32 = 1;
export const DTYPE_I32: i32 = 2;
