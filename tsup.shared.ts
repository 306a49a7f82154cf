import { defineConfig, type Options } from 'tsup';

/**
 * Every library package's tsup config is this one with its own entry points (and, rarely, extra
 * options): ESM with `.d.ts` and source maps. `@backprop/*` stays external so the one registry of
 * `@backprop/tensor` (a peer dependency) is shared, never bundled into a second copy.
 */
export function libraryConfig(entry: Record<string, string>, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    ...extra,
    external: [/^@backprop\//, ...(extra.external ?? [])],
  });
}
