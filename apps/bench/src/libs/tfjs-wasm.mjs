import * as lib from './tfjs.mjs';
lib.configure('wasm');
export const { init, build, kernels } = lib;
export const name = 'tfjs-wasm';
export const label = 'TensorFlow.js 4.22 (tfjs-backend-wasm, SIMD)';
