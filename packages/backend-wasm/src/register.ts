import { use } from '@backprop/tensor';
import { wasmBackend } from './plugin.js';

use(wasmBackend);
