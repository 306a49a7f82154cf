import { BackpropError, type Registry } from '@backprop/tensor';
import { Command, CommanderError } from 'commander';
import { configureEvaluate } from './commands/evaluate.js';
import { configureExport } from './commands/export.js';
import { configureGradcheck } from './commands/gradcheck.js';
import { cliVersion, configureInfo } from './commands/info.js';
import { configurePredict } from './commands/predict.js';
import { configureSummary } from './commands/summary.js';
import { configureTrain } from './commands/train.js';
import { CliError, EXIT, oneLine } from './errors.js';
import { createRegistry } from './setup.js';

/** The `backprop` program. Settings made before `.command()` are inherited by every subcommand. */
export function buildProgram(registry: Registry = createRegistry()): Command {
  const program = new Command('backprop')
    .description('Train, evaluate and inspect convolutional neural networks on MNIST with Backprop.')
    .version(cliVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      // Usage errors: one line on stderr, no help dump, no stack trace.
      outputError: (message, write) => write(`${message.replace(/\s*\n\s*/g, ' ').trim()}\n`),
    });
  program.addHelpText(
    'after',
    `
Run 'backprop <command> --help' for a command's options and defaults.

Exit codes: 0 success, 1 failure (bad file, failed gradient check), 2 bad usage, 130 interrupted.

Examples:
  backprop train                                  # the paper's network on MNIST
  backprop evaluate --model-dir runs/<run>/model
  backprop predict --model-dir runs/<run>/model digit.png
  backprop export --model-dir runs/<run>/model --format onnx --out model.onnx
  backprop evaluate --model model.onnx            # evaluate / predict / summary also run an ONNX file
  backprop summary --model lenet
  backprop gradcheck --model paper
  backprop info`,
  );
  configureTrain(program.command('train'), registry);
  configureEvaluate(program.command('evaluate'), registry);
  configurePredict(program.command('predict'), registry);
  configureSummary(program.command('summary'), registry);
  configureExport(program.command('export'), registry);
  configureGradcheck(program.command('gradcheck'), registry);
  configureInfo(program.command('info'), registry);
  return program;
}

/** Maps anything thrown to an exit code, printing one line (a stack only with BACKPROP_DEBUG=1). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; every parse error (unknown flag, invalid value, missing
    // argument, no command at all, which prints the help on stderr) exits 2.
    const informational = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    return informational && error.exitCode === 0 ? 0 : EXIT.usage;
  }
  const code = error instanceof CliError ? error.exitCode : EXIT.failure;
  const kind = error instanceof CliError || error instanceof BackpropError ? '' : `${(error as Error)?.name ?? 'Error'}: `;
  process.stderr.write(`backprop: error: ${kind}${oneLine(error)}\n`);
  if (process.env.BACKPROP_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return code;
}

async function main(argv: string[]): Promise<void> {
  // `backprop … | head` closes the pipe early; that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const registry = createRegistry();
  try {
    await buildProgram(registry).parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  } finally {
    await releaseBackends(registry);
  }
}

/**
 * Disposes every backend the command started, so nothing keeps Node running: the gpu.js
 * webgpu mode holds a Dawn device until its backend is disposed (whenDisposed() resolves
 * once it is destroyed).
 */
async function releaseBackends(registry: Registry): Promise<void> {
  for (const name of registry.backendNames()) {
    let backend: { whenDisposed?: () => Promise<void> } | undefined;
    try {
      backend = registry.findBackend(name) as typeof backend;
    } catch {
      continue;
    }
    registry.removeBackend(name);
    await backend?.whenDisposed?.();
  }
}

await main(process.argv);
