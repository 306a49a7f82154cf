import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The tests run the built binary. The root `pnpm test` builds everything first; when
 * dist/bin.js is missing (running this package's tests alone) build it and its dependencies.
 */
export default function setup(): void {
  const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
  if (existsSync(bin)) return;
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  execSync('pnpm turbo run build --filter=@backprop/cli... --output-logs=errors-only', { cwd: root, stdio: 'inherit' });
}
