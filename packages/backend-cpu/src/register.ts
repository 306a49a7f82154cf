import { use } from '@backprop/tensor';
import { cpuBackend } from './plugin.js';

use(cpuBackend);
