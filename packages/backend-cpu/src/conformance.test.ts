import { asyncReadsOnly, describeBackendConformance } from '@backprop/tensor/testing';
import { cpuBackend } from './index.js';

describeBackendConformance('backend-cpu float32', cpuBackend, { backendName: 'cpu', dtypes: ['float32'] });
describeBackendConformance('backend-cpu float64', cpuBackend, { backendName: 'cpu', dtypes: ['float64'] });
// The same suite with synchronous reads switched off, as a WebGPU backend has them:
// it reads everything with `await data()`, gradient checks included.
describeBackendConformance('backend-cpu float32, async reads only', asyncReadsOnly(cpuBackend, 'cpu'), { backendName: 'cpu', dtypes: ['float32'] });
describeBackendConformance('backend-cpu float64, async reads only', asyncReadsOnly(cpuBackend, 'cpu'), { backendName: 'cpu', dtypes: ['float64'] });
