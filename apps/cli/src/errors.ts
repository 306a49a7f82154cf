import { InvalidArgumentError } from 'commander';

/** Exit codes of the `backprop` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/**
 * An error the CLI reports as one line (no stack trace). Exit code 1 for bad files and
 * failed runs, 2 for bad command-line usage.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

/** A bad option value found after parsing (e.g. a combination of flags); exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** Parsers for commander options: they throw InvalidArgumentError, which commander turns into exit code 2. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer (1, 2, 3, …).');
  }
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0 (e.g. 0.01).');
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n >= 1) {
    throw new InvalidArgumentError('expected a fraction strictly between 0 and 1 (e.g. 0.1).');
  }
  return n;
}

/** The message of anything thrown, on one line. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'exists and is not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/**
 * A file-system failure as a one-line CliError naming the path: `cannot <action> <path>:
 * permission denied (EACCES, on <the file the system call failed on>)`. Errors without an errno code (e.g. the library's own,
 * which already name their file) keep their message, prefixed with the path when it
 * does not name it.
 */
export function fileError(error: unknown, path: string, action: string, hint = ''): CliError {
  if (error instanceof CliError) return error;
  const e = error as NodeJS.ErrnoException | undefined;
  const tail = hint ? `; ${hint}` : '';
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && FS_REASONS[code]) {
    const where = e?.path && e.path !== path ? `, on ${e.path}` : '';
    return new CliError(`cannot ${action} ${path}: ${FS_REASONS[code]} (${code}${where})${tail}`);
  }
  const message = oneLine(error);
  return new CliError(`${message.includes(path) ? '' : `cannot ${action} ${path}: `}${message}${tail}`);
}
