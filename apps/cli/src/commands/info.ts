import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { wasmBuildInfo, whyWasmUnavailable } from '@backprop/backend-wasm';
import type { Registry } from '@backprop/tensor';
import type { Command } from 'commander';
import { jsonOption, printJson } from '../options.js';
import { GPUJS_PACKAGE } from '../setup.js';

const PACKAGES = ['@backprop/tensor', '@backprop/layers', '@backprop/losses', '@backprop/optimizers', '@backprop/backend-cpu', '@backprop/backend-wasm', '@backprop/datasets', GPUJS_PACKAGE];

/** The wasm build the CLI runs (it creates the backend with the default options), or why it cannot run here. */
function wasmInfo(): { available: boolean; reason?: string; simd: boolean; relaxedSimd: boolean; threads: number; moduleBytes: number } {
  const why = whyWasmUnavailable();
  const build = wasmBuildInfo();
  return why === null ? { available: true, ...build } : { available: false, reason: why, ...build };
}

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');

/** The CLI's own version, from its package.json. */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return null;
  }
}

export function configureInfo(command: Command, registry: Registry): Command {
  jsonOption(command.description('print versions and the registered backends, layers, losses and optimizers'));
  return command.action((flags: { json: boolean }) => {
    const versions: Record<string, string | null> = { '@backprop/cli': cliVersion() };
    for (const name of PACKAGES) versions[name] = packageVersion(name);
    const info = {
      versions,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      backends: registry.backendNames(),
      wasm: wasmInfo(),
      layers: registry.layers.names(),
      losses: registry.losses.names(),
      optimizers: registry.optimizers.names(),
    };
    if (flags.json) {
      printJson(info);
      return;
    }
    const lines = [
      'versions:',
      ...Object.entries(versions).map(([name, v]) => `  ${name.padEnd(24)} ${v ?? '(not installed)'}`),
      `  ${'node'.padEnd(24)} ${info.node} (${info.platform})`,
      `backends:   ${info.backends.join(', ')}${versions[GPUJS_PACKAGE] ? '' : ` (gpujs: install ${GPUJS_PACKAGE})`}`,
      `wasm:       ${info.wasm.available ? '' : `not available (${info.wasm.reason}); `}SIMD yes, relaxed SIMD ${yesNo(info.wasm.relaxedSimd)}, threads ${info.wasm.threads}, ${(info.wasm.moduleBytes / 1024).toFixed(0)} KB module`,
      `layers:     ${info.layers.join(', ')}`,
      `losses:     ${info.losses.join(', ')}`,
      `optimizers: ${info.optimizers.join(', ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
