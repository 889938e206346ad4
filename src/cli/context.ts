import type { Command } from 'commander';
import { type OpenRuntimeOptions, openRuntime, type Runtime } from '../app/open-runtime.js';
import { readEnv } from '../config/read-env.js';

/**
 * The environment, with the global `--ledger PATH` option taking precedence over LEDGER_PATH and
 * DATABASE_URL (a file named on the command line is the ledger meant).
 */
export function envFor(command: Command) {
  const env = readEnv();
  const ledger = command.optsWithGlobals<{ ledger?: string }>().ledger;
  return ledger ? { ...env, LEDGER_PATH: ledger, DATABASE_URL: undefined } : env;
}

/** Opens the runtime for one command and always closes it. */
export async function withRuntime<T>(
  command: Command,
  options: OpenRuntimeOptions,
  fn: (runtime: Runtime) => Promise<T> | T,
): Promise<T> {
  const runtime = await openRuntime(envFor(command), options);
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
