import { copyFileSync } from 'node:fs';
import { libraryConfig } from '../../tsup.shared';

// The module is embedded in index.js (generated/wasmBinary.ts); dist/backend.wasm ships beside
// it for those who load it themselves (e.g. WebAssembly.compileStreaming in a worker).
export default libraryConfig(
  { index: 'src/index.ts', register: 'src/register.ts' },
  { onSuccess: async () => copyFileSync('generated/backend.wasm', 'dist/backend.wasm') },
);
