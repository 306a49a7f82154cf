/**
 * Test helper: how every browser test starts Debian's Chromium through playwright-core, serves
 * its page and reads the page's result. The binary is found only through
 * `systemBinary('chromium')` (CHROMIUM_PATH overrides it); the flags keep it headless, GPU-less
 * and off the network (no QUIC, no background fetches, no component updates, no sync).
 * playwright-core itself is imported by the test (it is a devDependency of the package that runs
 * the browser, not of the root), so it is passed in and typed here with the little this file uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemBinary } from './system-deps.js';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The options for `chromium.launchPersistentContext(userDataDir, …)`, with `extraArgs` after the standard flags. */
export function chromiumLaunchOptions(extraArgs: readonly string[] = []): { executablePath: string; headless: true; args: string[] } {
  return { executablePath: systemBinary('chromium', process.env.CHROMIUM_PATH), headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] };
}

/** playwright-core's `chromium`, as far as launchChromium uses it. */
export interface PersistentLauncher<Context> {
  launchPersistentContext(userDataDir: string, options: ReturnType<typeof chromiumLaunchOptions> & Record<string, unknown>): Promise<Context>;
}

/**
 * Starts Chromium (standard flags plus `extraArgs`) on a fresh profile folder; `close()` closes it
 * and removes the folder. `contextOptions` go to launchPersistentContext (viewport, downloads, …).
 */
export async function launchChromium<Context extends { close(): Promise<void> }>(
  chromium: PersistentLauncher<Context>,
  { extraArgs = [], contextOptions = {} }: { extraArgs?: readonly string[]; contextOptions?: Record<string, unknown> } = {},
): Promise<{ context: Context; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'backprop-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, { ...contextOptions, ...chromiumLaunchOptions(extraArgs) });
    return {
      context,
      async close() {
        await context.close();
        rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A server on 127.0.0.1 — a secure context, so navigator.gpu and (with COOP/COEP) SharedArrayBuffer exist there. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 at a free port. */
export async function serveLocal(handler: RequestListener): Promise<LocalServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One answer of `serveRoutes`: the body, its content type and any further headers. */
export interface Served {
  type: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

/** Serves what `route(path, query)` returns (path without the query, percent-decoded); 404 where it returns undefined. */
export function serveRoutes(route: (path: string, query: string) => Served | undefined): Promise<LocalServer> {
  return serveLocal((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    const served = route(decodeURIComponent(path), query);
    if (served === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': served.type, ...served.headers }).end(served.body);
  });
}

/** A page of one script: the document every bundled test page is served as. */
export function scriptPage(title: string, src: string): Served {
  return { type: 'text/html; charset=utf-8', body: `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"></head><body><script src="${src}"></script></body></html>` };
}

/** playwright-core's Page, as far as the helpers below use it. */
interface WatchedPage {
  on(event: 'pageerror', listener: (error: Error) => void): unknown;
  on(event: 'console', listener: (msg: { type(): string; text(): string }) => void): unknown;
  on(event: 'requestfailed', listener: (request: { url(): string; failure(): { errorText: string } | null }) => void): unknown;
}

/** Records what goes wrong on `page` — uncaught exceptions, console errors, failed requests — into the returned list. */
export function recordPageErrors(page: WatchedPage): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
  });
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  return errors;
}

/** Waits until the page has set `globalThis.__result` (the bundled test pages' convention) and returns it. */
export async function waitForPageResult<T>(
  page: {
    waitForFunction(fn: () => boolean, arg: undefined, options: { timeout: number; polling: number }): Promise<unknown>;
    evaluate<R>(fn: () => R): Promise<R>;
  },
  timeoutMs: number,
): Promise<T> {
  await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, undefined, { timeout: timeoutMs, polling: 500 });
  return (await page.evaluate(() => (globalThis as { __result?: unknown }).__result)) as T;
}

/** esbuild, for bundling test pages. It is not a dependency of the packages; it comes with tsup (a root devDependency). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }>;
}
async function loadEsbuild(): Promise<Esbuild> {
  const require = createRequire(import.meta.url);
  return (await import(createRequire(require.resolve('tsup')).resolve('esbuild'))) as Esbuild;
}

/**
 * Bundles a test page's script for Chromium and returns its text: one IIFE for ES2022, the
 * workspace packages taken from their TypeScript sources (the `backprop-source` condition)
 * and `node:*` imports left out (the pages never reach them). `entry` is a file, or source
 * text with the folder its imports resolve from; `extra` adds esbuild options (alias,
 * plugins, …).
 */
export async function bundleTestPage(
  entry: string | { contents: string; resolveDir: string; sourcefile: string },
  extra: Record<string, unknown> = {},
): Promise<string> {
  const esbuild = await loadEsbuild();
  const built = await esbuild.build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { ...entry, loader: 'ts' } }),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    conditions: ['backprop-source'],
    external: ['node:*'],
    write: false,
    logLevel: 'silent',
    ...extra,
  });
  return built.outputFiles![0].text;
}

/**
 * A test page's two halves: `route` served on 127.0.0.1 (serveRoutes) and Chromium started
 * (launchChromium, with `options`). `base` is the server's URL; `close()` closes the browser,
 * then the server.
 */
export async function serveAndLaunch<Context extends { close(): Promise<void> }>(
  chromium: PersistentLauncher<Context>,
  route: Parameters<typeof serveRoutes>[0],
  options: Parameters<typeof launchChromium>[1] = {},
): Promise<{ base: string; context: Context; close(): Promise<void> }> {
  const server = await serveRoutes(route);
  try {
    const browser = await launchChromium(chromium, options);
    return {
      base: server.url,
      context: browser.context,
      async close() {
        await browser.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
