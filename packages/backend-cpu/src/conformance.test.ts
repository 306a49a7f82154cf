import { describeBackendConformance } from '@backprop/tensor/testing';
import { cpuBackend } from './index.js';

describeBackendConformance('backend-cpu float32', cpuBackend, { backendName: 'cpu', dtypes: ['float32'] });
describeBackendConformance('backend-cpu float64', cpuBackend, { backendName: 'cpu', dtypes: ['float64'] });
