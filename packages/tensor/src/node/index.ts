/**
 * `@backprop/tensor/node`: what packages that touch Node's file system share (the main entry
 * stays free of `node:` imports so it runs in browsers). One atomic writer for saved models,
 * reports, exported ONNX files and image folders, and one way to turn a file-system failure
 * into a BackpropError naming the file.
 */
import { BackpropError } from '../errors.js';
import { describeValue } from '../validation.js';

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EIO: 'input/output error',
};

/**
 * A file-system failure as a BackpropError naming `file`: `<what> (<errno code>: <cause>)`,
 * the original error kept as `cause`. A BackpropError passes through unchanged.
 */
export function fileError(file: string, what: string, error: unknown): BackpropError {
  if (error instanceof BackpropError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const cause = code ? `${code}: ${CAUSES[code] ?? (error as Error).message}` : (error as Error)?.message ?? String(error);
  const wrapped = new BackpropError(file, `${what} (${cause})`);
  Object.defineProperty(wrapped, 'cause', { value: error, enumerable: false });
  return wrapped;
}

let temporaryCounter = 0;

/**
 * Writes to a temporary file in the same directory, flushes it, then renames it into
 * place. Any failure (ENOSPC, EACCES, EROFS, ENOENT, …) is a BackpropError naming the
 * file and the cause, and the temporary file is removed.
 *
 * The temporary file is `<file>.<pid>.<base-36 stamp>.tmp`: @backprop/layers' saveModel
 * recognises that shape to clear what a crashed writer left.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  if (typeof file !== 'string' || file.length === 0) throw new BackpropError('writeFileAtomic', `file must be a path, got ${describeValue(file)}`);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new BackpropError(file, `data must be a string or a Uint8Array, got ${describeValue(data)}`);
  const fs = await import('node:fs/promises');
  // pid and a per-process counter: concurrent writes never share a temporary file, and the pid tells a later save whether its writer is gone.
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}${(temporaryCounter++).toString(36)}.tmp`;
  let created = false;
  try {
    // 'wx': never write through an existing file or link of that name.
    const handle = await fs.open(tmp, 'wx');
    created = true;
    let failure: unknown;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (error) {
      failure = error;
    }
    try {
      await handle.close();
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw failure;
    await fs.rename(tmp, file);
    created = false;
  } catch (error) {
    // No partial file is left behind; if even this fails the next save removes it.
    if (created) await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw fileError(file, 'cannot write', error);
  }
}
