import { use } from '@backprop/tensor';
import { layersPlugin } from './plugin.js';

use(layersPlugin);
