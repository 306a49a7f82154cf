import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Kernel bodies are source strings, so minifying would be safe, but keep dist readable.
  minify: false,
  external: [/^@backprop\//, 'gpu.js', 'webgpu'],
});
