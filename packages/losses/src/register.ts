/** Side-effect entry: `import '@backprop/losses/register'` installs every loss into the default registry. */
import { use } from '@backprop/tensor';
import { lossesPlugin } from './plugin.js';

use(lossesPlugin);
