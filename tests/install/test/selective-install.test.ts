import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What a user gets from npm: each public package packed to a tarball (as `pnpm
 * publish` would), installed alone into an empty project with plain npm, and used
 * through its public entry points only.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
let work: string;
const tarballs: Record<string, string> = {};

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

/** The first ```ts block after the README's "page of code" heading. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Train the paper'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no ```ts example under "Train the paper’s network"');
  return match[1];
}

async function project(name: string, packages: string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  const dependencies = Object.fromEntries(packages.map((p) => [`@backprop/${p}`, `file:${tarballs[p]}`]));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', dependencies }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'backprop-install-'));
  for (const pkg of ['tensor', 'backend-cpu', 'layers', 'losses', 'optimizers', 'datasets']) {
    const pkgDir = join(root, 'packages', pkg);
    if (!existsSync(join(pkgDir, 'dist/index.js'))) throw new Error(`packages/${pkg}/dist is missing: run \`pnpm build\` first`);
    const out = run('pnpm', ['pack', '--pack-destination', work], pkgDir).trim().split('\n');
    tarballs[pkg] = out[out.length - 1].trim();
  }
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('selective installs from packed tarballs', () => {
  it('tensor + backend-cpu alone: a conv2d op (worked example W2, apps/docs/math/convolution.md) works, and nothing else is installed', async () => {
    const dir = await project('conv-only', ['tensor', 'backend-cpu']);
    expect((await readdir(join(dir, 'node_modules/@backprop'))).sort()).toEqual(['backend-cpu', 'tensor']);
    expect(existsSync(join(dir, 'node_modules/gpu.js'))).toBe(false);
    await writeFile(
      join(dir, 'conv.mjs'),
      `import { conv2d, tensor, use } from '@backprop/tensor';
import { cpuBackend } from '@backprop/backend-cpu';
use(cpuBackend);
const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
const y = conv2d(x, tensor([1, 2, 3, 4], [1, 1, 2, 2]), { bias: tensor([1], [1]) });
console.log(JSON.stringify(Array.from(y.dataSync())));
`,
    );
    expect(JSON.parse(run('node', ['conv.mjs'], dir))).toEqual([45, 55, 65, 85, 95, 105, 125, 135, 145]);
  });

  it('the README example runs as ESM and as TypeScript checked by tsc, without gpu.js', async () => {
    const dir = await project('readme', ['tensor', 'backend-cpu', 'layers', 'losses', 'optimizers', 'datasets']);
    expect(existsSync(join(dir, 'node_modules/gpu.js'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules/gl'))).toBe(false);
    const example = await readmeExample();
    await writeFile(join(dir, 'example.mjs'), example);
    await writeFile(join(dir, 'example.ts'), example);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, lib: ['ES2022', 'DOM'], types: [], outDir: 'out' },
        files: ['example.ts'],
      }),
    );
    run('node', [tsc, '-p', '.'], dir);
    for (const file of ['example.mjs', 'out/example.js']) {
      const output = run('node', [file], dir);
      const match = /test accuracy ([\d.]+)%, (\d+) samples\/s/.exec(output);
      expect(match, `${file} printed: ${output}`).not.toBeNull();
      console.log(`README example (${file}): ${output.trim()}`);
      expect(Number(match![1])).toBeGreaterThanOrEqual(90);
    }
  });
});
