import { copyFileSync } from 'node:fs';
import { libraryConfig } from '../../tsup.shared';

// The modules are embedded in index.js (generated/wasmBinary.ts); dist/backend.wasm and
// dist/backend-threads.wasm (shared memory, threads > 1) ship beside it for those who load them
// themselves (e.g. WebAssembly.compileStreaming in a worker).
export default libraryConfig(
  { index: 'src/index.ts', register: 'src/register.ts' },
  {
    onSuccess: async () => {
      for (const file of ['backend.wasm', 'backend-threads.wasm']) copyFileSync(`generated/${file}`, `dist/${file}`);
    },
  },
);
