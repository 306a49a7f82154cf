/**
 * Test helper (not part of the package): worker threads cannot run the TypeScript
 * sources, so the tests bundle them with esbuild (tsup's own copy) into a temporary
 * folder laid out like dist/: index.js, worker.js and tensor.js (@backprop/tensor from its
 * sources), sharing chunks. The pool finds worker.js next to index.js as it does in dist.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Bundle {
  dir: string;
  /** The bundled worker script, for `workerUrl`. */
  workerUrl: URL;
  /** The bundled package entry (for child processes). */
  indexUrl: URL;
  /** @backprop/tensor bundled from its sources (for child processes). */
  tensorUrl: URL;
}

let cached: Bundle | undefined;

export function threadedBundle(): Bundle {
  if (cached) return cached;
  const src = fileURLToPath(new URL('..', import.meta.url));
  const esbuild = createRequire(createRequire(import.meta.url).resolve('tsup'))('esbuild') as {
    buildSync(options: object): unknown;
  };
  const dir = mkdtempSync(join(tmpdir(), 'backprop-cpu-threads-'));
  esbuild.buildSync({
    // '@backprop/tensor' resolves (from this package, with the source condition) to the
    // same module index.ts imports, so the bundle and the child processes share it.
    entryPoints: { index: join(src, 'index.ts'), worker: join(src, 'threads', 'worker.ts'), tensor: '@backprop/tensor' },
    absWorkingDir: join(src, '..'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    outdir: dir,
    conditions: ['backprop-source'],
    logLevel: 'error',
  });
  cached = {
    dir,
    workerUrl: pathToFileURL(join(dir, 'worker.js')),
    indexUrl: pathToFileURL(join(dir, 'index.js')),
    tensorUrl: pathToFileURL(join(dir, 'tensor.js')),
  };
  return cached;
}
