import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, Registry } from '@backprop/tensor';
import * as fsp from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Dense, layersPlugin, loadModel, saveModel, Sequential, writeFileAtomic } from './index.js';

// The failures below cannot be produced for real here (the tests may run as root, and
// there is no tiny or read-only file system to write to): `open`, `rename` and
// `mkdir` are wrapped so a test can make one call fail with the errno it needs, and
// the FileHandle prototype is spied on for failures while writing (disk full).
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, default: real, open: vi.fn(real.open), rename: vi.fn(real.rename), mkdir: vi.fn(real.mkdir) };
});

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall} '${path}'`), { code, syscall, path });
}

let fileHandle: { writeFile: (...args: unknown[]) => Promise<void>; sync: () => Promise<void> };
let realOpen: typeof fsp.open;
let dir: string;
beforeAll(async () => {
  // FileHandle is not exported: take its prototype from a real handle.
  const probeDir = await mkdtemp(join(tmpdir(), 'backprop-handle-'));
  const handle = await fsp.open(join(probeDir, 'probe'), 'w');
  fileHandle = Object.getPrototypeOf(handle);
  await handle.close();
  realOpen = (await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises')).open;
  await rm(probeDir, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backprop-atomic-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function model(seed: number): Sequential {
  return new Sequential({ registry, inputShape: [4], seed, layers: [new Dense({ units: 3 })] });
}

async function rejected(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

const temporaries = async (): Promise<string[]> => (await readdir(dir)).filter((n) => n.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  it('turns every write failure into a BackpropError naming the file and the cause, and leaves no temporary file', async () => {
    const file = join(dir, 'out.txt');
    await writeFile(file, 'old');
    const failures: [string, () => void, string][] = [
      ['ENOSPC', () => vi.spyOn(fileHandle, 'writeFile').mockRejectedValueOnce(errno('ENOSPC', 'write', file)), 'ENOSPC: no space left on the device'],
      ['ENOSPC on flush', () => vi.spyOn(fileHandle, 'sync').mockRejectedValueOnce(errno('ENOSPC', 'fsync', file)), 'ENOSPC: no space left on the device'],
      [
        'EIO on close',
        // close is an own property of each handle: hand out a real one whose close fails after closing.
        () =>
          vi.mocked(fsp.open).mockImplementationOnce(async (...args: Parameters<typeof fsp.open>) => {
            const handle = await realOpen(...args);
            const close = handle.close.bind(handle);
            handle.close = async () => {
              await close();
              throw errno('EIO', 'close', file);
            };
            return handle;
          }),
        'EIO: input/output error',
      ],
      ['EACCES', () => vi.mocked(fsp.open).mockRejectedValueOnce(errno('EACCES', 'open', file)), 'EACCES: permission denied'],
      ['EROFS', () => vi.mocked(fsp.open).mockRejectedValueOnce(errno('EROFS', 'open', file)), 'EROFS: read-only file system'],
      ['EACCES on rename', () => vi.mocked(fsp.rename).mockRejectedValueOnce(errno('EACCES', 'rename', file)), 'EACCES: permission denied'],
    ];
    for (const [label, fail, cause] of failures) {
      fail();
      const error = await rejected(writeFileAtomic(file, 'new'));
      expect(error, label).toBeInstanceOf(BackpropError);
      expect(error.message, label).toBe(`${file}: cannot write (${cause})`);
      expect((error as { cause?: NodeJS.ErrnoException }).cause?.code, label).toBe(cause.split(':')[0]);
      expect(await temporaries(), label).toEqual([]);
      expect(await readFile(file, 'utf8'), label).toBe('old');
      vi.restoreAllMocks();
    }
    // A real failure: the directory does not exist.
    const missing = join(dir, 'missing', 'out.txt');
    const error = await rejected(writeFileAtomic(missing, 'x'));
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.message).toBe(`${missing}: cannot write (ENOENT: no such file or directory)`);
    // And a working write after all that.
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await temporaries()).toEqual([]);
  });
});

describe('saveModel when the disk fails', () => {
  it('disk full while writing the weights or the manifest: a BackpropError, the previous model still loads, no temporary file', async () => {
    const first = model(1);
    const { manifestPath, weightsPath } = await saveModel(first, dir);
    const second = model(2);
    // Disk full on the weights (the first write)…
    vi.spyOn(fileHandle, 'writeFile').mockRejectedValueOnce(errno('ENOSPC', 'write', 'weights'));
    let error = await rejected(saveModel(second, dir));
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.message).toMatch(new RegExp(`^${dir}/weights-[0-9a-f]{8}\\.bin: cannot write \\(ENOSPC: no space left on the device\\)$`));
    expect(await temporaries()).toEqual([]);
    expect((await loadModel(dir, { registry })).model.getWeights()).toEqual(first.getWeights());
    vi.restoreAllMocks();
    // …and on the manifest (the second write): the old manifest stays, naming the old weights, which are still there.
    const realWrite = fileHandle.writeFile;
    let writes = 0;
    vi.spyOn(fileHandle, 'writeFile').mockImplementation(function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return writes === 2 ? Promise.reject(errno('ENOSPC', 'write', 'model.json')) : Reflect.apply(realWrite, this, args);
    });
    error = await rejected(saveModel(second, dir));
    expect(error.message).toBe(`${manifestPath}: cannot write (ENOSPC: no space left on the device)`);
    expect(await temporaries()).toEqual([]);
    expect((await readdir(dir)).includes(weightsPath.split('/').pop()!)).toBe(true);
    expect((await loadModel(dir, { registry })).model.getWeights()).toEqual(first.getWeights());
    vi.restoreAllMocks();
    // With space again the save goes through and the orphaned weights are gone.
    await saveModel(second, dir);
    expect((await readdir(dir)).filter((n) => n.startsWith('weights-'))).toHaveLength(1);
    expect((await loadModel(dir, { registry })).model.getWeights()).toEqual(second.getWeights());
    first.dispose();
    second.dispose();
  });

  it('a directory that cannot be created is a BackpropError naming it and the cause', async () => {
    const target = join(dir, 'ro', 'model');
    vi.mocked(fsp.mkdir).mockRejectedValueOnce(errno('EROFS', 'mkdir', target));
    const m = model(1);
    const error = await rejected(saveModel(m, target));
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.message).toBe(`${target}: cannot create the model directory (EROFS: read-only file system)`);
    m.dispose();
  });

  it('removes the temporary files of earlier crashed saves, but not those of a live writer or anyone else', async () => {
    const deadPid = 2 ** 30; // above any pid_max: no such process
    const stale = [`model.json.${deadPid}.abc1.tmp`, `weights-0123abcd.bin.${deadPid}.xyz2.tmp`];
    const live = `model.json.${process.ppid}.def3.tmp`; // the parent process is running: maybe a concurrent save
    const oldLive = `weights-89abcdef.bin.${process.ppid}.ghi4.tmp`; // but a day-old file of a live pid is a reused pid
    const foreign = ['notes.tmp', 'model.json.backup.tmp'];
    for (const name of [...stale, live, oldLive, ...foreign]) await writeFile(join(dir, name), 'partial');
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
    await utimes(join(dir, oldLive), dayAgo, dayAgo);
    const m = model(1);
    const { weightsPath } = await saveModel(m, dir);
    expect((await readdir(dir)).sort()).toEqual(['model.json', weightsPath.split('/').pop()!, live, ...foreign].sort());
    expect((await stat(join(dir, live))).size).toBe(7);
    m.dispose();
  });
});
