import * as lib from './tfjs.mjs';
lib.configure('cpu');
export const { init, build, kernels } = lib;
export const name = 'tfjs-cpu';
export const label = 'TensorFlow.js 4.22 (tfjs-backend-cpu)';
