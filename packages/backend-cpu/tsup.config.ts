import { defineConfig } from 'tsup';

export default defineConfig({
  // worker.js is loaded by the thread pool with new URL('./worker.js', import.meta.url).
  entry: { index: 'src/index.ts', register: 'src/register.ts', worker: 'src/threads/worker.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@backprop\//],
});
