import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', register: 'src/register.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@backprop\//],
});
