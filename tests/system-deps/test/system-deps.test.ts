// The project's own scripts install every system package the tests use (scripts/system-deps.txt,
// scripts/ensure-system-deps.sh); these tests keep that true on a new machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { systemBinary, systemDeps } from '../../../scripts/system-deps.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const script = join(root, 'scripts/ensure-system-deps.sh');

function runScript(args: string[], env: Record<string, string> = {}) {
  return spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

function manifestWith(lines: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'system-deps-')), 'system-deps.txt');
  writeFileSync(file, lines);
  return file;
}

describe('scripts/ensure-system-deps.sh', () => {
  it('--check passes after the install step that `pnpm test` runs first (every listed package is present, gl is built)', () => {
    const result = runScript(['--check']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('--check fails naming the package, what is missing and the script to run', () => {
    const manifest = manifestWith('no-such-debian-package   bin:no-such-binary-for-backprop   a test of the check\n');
    const result = runScript(['--check'], { SYSTEM_DEPS_MANIFEST: manifest });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('missing bin:no-such-binary-for-backprop (Debian package no-such-debian-package; needed for: a test of the check)');
    expect(result.stderr).toContain('run bash scripts/ensure-system-deps.sh');
  });

  it('rejects a check kind it does not know instead of treating it as present', () => {
    const manifest = manifestWith('coreutils   exe:ls   a misspelled kind\n');
    const result = runScript(['--check'], { SYSTEM_DEPS_MANIFEST: manifest });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("unknown check kind 'exe'");
  });

  it('rejects an unknown mode', () => {
    expect(runScript(['--instal']).status).toBe(2);
  });
});

describe('scripts/system-deps.txt', () => {
  it('lists each package once, with a known check kind and a reason', () => {
    const deps = systemDeps();
    expect(deps.length).toBeGreaterThan(5);
    expect(new Set(deps.map((d) => d.pkg)).size).toBe(deps.length);
    for (const dep of deps) {
      expect(dep.pkg, dep.pkg).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
      expect(dep.check, dep.pkg).toMatch(/^(bin|pc|lib|file):\S+$/);
      expect(dep.why, dep.pkg).not.toBe('');
    }
  });

  it('is installed during `pnpm install` (before gl is built) and checked before `pnpm test`', () => {
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;
    expect(scripts['pnpm:devPreinstall']).toBe('bash scripts/ensure-system-deps.sh --packages');
    expect(scripts.pretest).toBe('bash scripts/ensure-system-deps.sh');
  });
});

describe('systemBinary (how tests find a system binary)', () => {
  it('finds a listed binary on PATH', () => {
    const xvfb = systemBinary('Xvfb');
    expect(statSync(xvfb).isFile()).toBe(true);
  });

  it('refuses a binary the list does not name, saying where to add it', () => {
    expect(() => systemBinary('ffmpeg')).toThrow(/ffmpeg is not listed in scripts\/system-deps.txt.*bin:ffmpeg/);
  });

  it('names the package and the script when a listed binary is missing', () => {
    expect(() => systemBinary('Xvfb', '/nonexistent/Xvfb')).toThrow(/Debian package xvfb: run bash scripts\/ensure-system-deps.sh/);
  });
});

describe('tests reach system binaries only through systemBinary', () => {
  function testSources(dir: string, out: string[] = []): string[] {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) testSources(path, out);
      else if (/\.(ts|mts|js|mjs)$/.test(name) && (/\.test\.[mc]?[tj]s$/.test(name) || /[\\/]test[\\/]/.test(path))) out.push(path);
    }
    return out;
  }

  it('no test hard-codes a system path or spawns a binary by bare name', () => {
    const offenders: string[] = [];
    const self = fileURLToPath(import.meta.url);
    for (const dir of ['packages', 'apps', 'tests']) {
      for (const file of testSources(join(root, dir))) {
        if (file === self) continue;
        const text = readFileSync(file, 'utf8');
        // Node, npm and pnpm come with Node itself; anything else must be listed.
        const bare = /\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*['"`](?!node['"`]|npm['"`]|pnpm['"`]|npx['"`]|bash['"`])([^'"`]+)['"`]/.exec(text);
        if (/['"`]\/usr\/(?:local\/)?bin\//.test(text)) offenders.push(`${relative(root, file)}: a literal /usr/bin path`);
        if (bare) offenders.push(`${relative(root, file)}: spawns '${bare[1]}' by name`);
      }
    }
    expect(offenders, 'use systemBinary(name) from scripts/system-deps.ts, and list the package in scripts/system-deps.txt').toEqual([]);
  });
});
