import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
  // Workspace packages and npm dependencies are resolved from node_modules at run time.
  external: [/^@backprop\//, 'commander', 'cli-progress', 'pngjs', 'chart.js'],
});
