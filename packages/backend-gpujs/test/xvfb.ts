/**
 * Test helper: makes sure an X display exists for headless-gl (its ANGLE needs X).
 * Uses $DISPLAY when set; otherwise starts a private Xvfb (like `xvfb-run -a`) on a
 * free display number and sets process.env.DISPLAY before any GL context is made.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { systemBinary } from '../../../scripts/system-deps.js';

let server: ChildProcess | undefined;

export async function ensureDisplay(): Promise<string> {
  if (process.env.DISPLAY) return process.env.DISPLAY;
  const child = spawn(systemBinary('Xvfb'), ['-displayfd', '3', '-screen', '0', '64x64x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  server = child;
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display within 10 s: ${stderr}`)), 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Xvfb: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with code ${code}: ${stderr}`));
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
  });
  child.removeAllListeners('exit');
  child.unref();
  process.env.DISPLAY = display;
  return display;
}

export function stopDisplay(): void {
  if (server && server.exitCode === null) server.kill();
  server = undefined;
}
