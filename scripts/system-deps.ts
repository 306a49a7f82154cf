/**
 * Test helper: the system binaries a test runs (Chromium, Xvfb, …) are found here, and only if
 * scripts/system-deps.txt lists the Debian package that provides them. So a test that starts
 * needing a new system binary fails at once with a message naming the package list to add it
 * to (and the script that installs it), instead of passing only on machines where someone
 * installed it by hand.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MANIFEST = join(dirname(fileURLToPath(import.meta.url)), 'system-deps.txt');

export interface SystemDep {
  /** The Debian package. */
  pkg: string;
  /** `bin:NAME`, `pc:NAME`, `lib:SONAME` or `file:GLOB`. */
  check: string;
  why: string;
}

export function systemDeps(): SystemDep[] {
  return readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [pkg, check, ...why] = line.split(/\s+/);
      return { pkg, check, why: why.join(' ') };
    });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of system binary `name`, which scripts/system-deps.txt must list as
 * `bin:name`. `override` (e.g. `process.env.CHROMIUM_PATH`) is used instead of a PATH search
 * when set, and must exist.
 */
export function systemBinary(name: string, override?: string): string {
  const dep = systemDeps().find((d) => d.check === `bin:${name}`);
  if (!dep) {
    throw new Error(
      `${name} is not listed in scripts/system-deps.txt: add a line naming the Debian package that provides it ` +
        `(with check bin:${name}), so scripts/ensure-system-deps.sh installs it on every machine`,
    );
  }
  const fix = `Debian package ${dep.pkg}: run bash scripts/ensure-system-deps.sh`;
  if (override) {
    if (!isExecutable(override)) throw new Error(`${override} (for ${name}) is not an executable file (${fix})`);
    return override;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not on PATH (${fix})`);
}
