import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const docsRoot = join(import.meta.dirname, '..');
export const distDir = join(docsRoot, '.vitepress/dist');

const SKIP = new Set(['node_modules', '.turbo', 'dist', 'cache', 'test', 'test-artifacts', '.generated', 'api', 'public']);

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/** Newest source the site is built from: its pages, theme, config, scripts, and the packages' builds. */
function newestSource(): number {
  let latest = newest(docsRoot);
  const packages = join(docsRoot, '../../packages');
  for (const name of readdirSync(packages)) {
    const dist = join(packages, name, 'dist/index.js');
    if (existsSync(dist)) latest = Math.max(latest, statSync(dist).mtimeMs);
  }
  const bench = join(docsRoot, '../bench/results/latest.md');
  if (existsSync(bench)) latest = Math.max(latest, statSync(bench).mtimeMs);
  return latest;
}

/**
 * Reuses .vitepress/dist when it is newer than every source (the root `pnpm test`
 * builds it through turbo just before), and builds the site otherwise.
 */
export async function ensureBuilt(): Promise<{ built: boolean; seconds: number }> {
  const index = join(distDir, 'index.html');
  if (!process.env.DOCS_TEST_REBUILD && existsSync(index) && statSync(index).mtimeMs >= newestSource()) {
    return { built: false, seconds: 0 };
  }
  const started = Date.now();
  // Asynchronously: a synchronous child process would block vitest's worker for a minute.
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('pnpm', ['run', 'build'], { cwd: docsRoot, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`docs build failed (exit ${code}):\n${output.join('').slice(-8000)}`);
  return { built: true, seconds: (Date.now() - started) / 1000 };
}
