/**
 * Test helper: how every browser test starts Debian's Chromium through playwright-core —
 * the binary found only through `systemBinary('chromium')` (CHROMIUM_PATH overrides it) and
 * the flags that keep it headless, GPU-less and off the network (no QUIC, no background
 * fetches, no component updates, no sync). playwright-core itself is imported by the test
 * (it is a devDependency of the package that runs the browser), so this file needs none.
 */
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
