import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { crc32 } from '@backprop/layers';
import { PNG } from 'pngjs';

/** The built binary; BACKPROP_CLI_BIN runs the tests against another build (e.g. an older one). */
export const BIN = process.env.BACKPROP_CLI_BIN ?? fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node [nodeArgs] dist/bin.js …args`, never throwing on a non-zero exit. */
export function start(args: string[], options: { cwd?: string; uid?: number; gid?: number; nodeArgs?: string[] } = {}): { child: ChildProcess; done: Promise<RunResult> } {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd ?? tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
    uid: options.uid,
    gid: options.gid,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function cli(...args: string[]): Promise<RunResult> {
  return start(args).done;
}

export function tempDir(prefix = 'backprop-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The bytes of the weights file of a saved model directory. */
export function weightsOf(dir: string): Buffer {
  const file = readdirSync(dir).find((f) => /^weights-[0-9a-f]{8}\.bin$/.test(f));
  if (!file) throw new Error(`no weights file in ${dir}`);
  return readFileSync(join(dir, file));
}

/** An RGBA PNG: `pixel(x, y)` returns [r, g, b, a]. */
export function makePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      const [r, g, b, a] = pixel(x, y);
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = a;
    }
  }
  return PNG.sync.write(png);
}

/** A valid PNG of a black grey-scale image whose header says width × height (any size: rows of zeros compress well). */
export function greyPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grey
  const rows = Buffer.alloc(height * (width + 1)); // filter byte 0 and the pixels, per row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** An IDX file: the header for `dims`, then the bytes. */
export function idx(dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from(data))]);
}

/**
 * A directory with the four MNIST-named IDX files: `train` training and `test` test
 * images (a grey ramp, so every image is finite and distinct), labels n mod 10 unless
 * given.
 */
export function idxDir(train: number, test: number, labels: { train?: number[]; test?: number[] } = {}): string {
  const dir = tempDir('backprop-idx-');
  const images = (count: number): Buffer => idx([count, 28, 28], Array.from({ length: count * 784 }, (_, i) => (i * 7 + Math.floor(i / 784) * 13) % 256));
  const tags = (count: number, given?: number[]): Buffer => idx([count], given ?? Array.from({ length: count }, (_, i) => i % 10));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images(train));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), tags(train, labels.train));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images(test));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), tags(test, labels.test));
  return dir;
}

/** Small, fast training arguments. */
export const SMALL = ['--limit', '500', '--test-limit', '200'];
