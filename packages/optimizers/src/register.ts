/** Side-effect entry: `import '@backprop/optimizers/register'` installs every optimizer into the default registry. */
import { use } from '@backprop/tensor';
import { optimizersPlugin } from './plugin.js';

use(optimizersPlugin);
