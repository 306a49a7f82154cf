import { libraryConfig } from '../../tsup.shared';

// Kernel bodies are source strings, so minifying would be safe, but keep dist readable.
export default libraryConfig({ index: 'src/index.ts' }, { minify: false, external: ['gpu.js', 'webgpu'] });
