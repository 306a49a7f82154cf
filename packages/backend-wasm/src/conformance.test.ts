import { asyncReadsOnly, describeBackendConformance } from '@backprop/tensor/testing';
import { wasmBackend } from './index.js';

// float32 is the only compute dtype (README: "float32 only"); float64 and int32 are storage
// dtypes here, covered by the storage and cast tests of the suite.
describeBackendConformance('backend-wasm float32', wasmBackend, { backendName: 'wasm', dtypes: ['float32'] });
// The same suite reading everything with `await data()`, as a backend without synchronous reads would.
describeBackendConformance('backend-wasm float32, async reads only', asyncReadsOnly(wasmBackend, 'wasm'), { backendName: 'wasm', dtypes: ['float32'] });
