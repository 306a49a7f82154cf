import { chromium, type BrowserContext, type Download, type Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../../../scripts/chromium.js';
import { distDir, ensureBuilt } from './build';
import { serveStatic } from './server';

/** What went wrong on a page: console errors, uncaught exceptions, failed requests and HTTP errors. */
export interface Problems {
  errors: string[];
}

/** The built site served on 127.0.0.1, and Debian's Chromium to drive it. */
export interface Site {
  base: string;
  /** Whether the site was built for this run (else a fresh build was reused), and how long that took. */
  build: { built: boolean; seconds: number };
  context: BrowserContext;
  /** Opens a page (waiting for the network to settle) and records its problems. */
  open(path: string): Promise<{ page: Page; problems: Problems }>;
  close(): Promise<void>;
}

/**
 * Builds the site (or reuses a fresh build), serves it and starts Chromium with the
 * standard flags (scripts/chromium.ts) plus `extraArgs`.
 */
export async function openSite(extraArgs: readonly string[] = []): Promise<Site> {
  const build = await ensureBuilt();
  const server = await serveStatic(distDir);
  const browser = await launchChromium(chromium, { extraArgs, contextOptions: { viewport: { width: 1280, height: 900 }, acceptDownloads: true } });
  const { context } = browser;
  const open = async (path: string): Promise<{ page: Page; problems: Problems }> => {
    const page = await context.newPage();
    const problems: Problems = { errors: recordPageErrors(page) };
    page.on('response', (response) => {
      if (response.status() >= 400) problems.errors.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto(server.url + path, { waitUntil: 'networkidle' });
    return { page, problems };
  };
  return {
    base: server.url,
    build,
    context,
    open,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Clicks `testid` and returns the bytes of the download it starts, with the file name the page gave it. */
export async function download(page: Page, testid: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [started] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid="${testid}"]`).click()]);
  return { name: started.suggestedFilename(), bytes: await readDownload(started) };
}

async function readDownload(d: Download): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await d.createReadStream()) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
