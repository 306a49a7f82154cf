// The conformance suite on 2 threads (worker_threads on one shared memory). Its tensors are
// mostly too small to split (threads-identical outputs on big ones: backend-threads.test.ts),
// but every kernel runs on the shared-memory build with a pool started.
import { describeBackendConformance } from '@backprop/tensor/testing';
import { wasmBackendWithOptions } from '../index.js';

describeBackendConformance('backend-wasm, threads: 2', wasmBackendWithOptions({ threads: 2 }), { backendName: 'wasm', dtypes: ['float32'] });
