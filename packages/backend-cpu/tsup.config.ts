import { libraryConfig } from '../../tsup.shared';

// worker.js is loaded by the thread pool with new URL('./worker.js', import.meta.url).
export default libraryConfig({ index: 'src/index.ts', register: 'src/register.ts', worker: 'src/threads/worker.ts' });
