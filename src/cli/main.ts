#!/usr/bin/env node
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadEnvFile } from '../platform/env-file.js';
import { isUserError, UserError } from '../platform/errors.js';
import { createLogger } from '../platform/logger.js';
import { registerAgentsCommands } from './agents/index.js';
import { registerChaosCommand } from './chaos-command.js';
import { registerCheckpointCommands } from './checkpoint-commands.js';
import { registerConfigCommands } from './config-commands.js';
import { envFor } from './context.js';
import { registerDemoCommand } from './demo-command.js';
import { registerLedgerCommands } from './ledger/index.js';
import { EXIT } from './output.js';
import { registerPolicyCommands } from './policy/index.js';
import { registerPromotionsCommands } from './promotions/index.js';
import { registerSlackCommands } from './slack-commands.js';
import { registerVaultCommands } from './vault/index.js';
import { registerWatchCommands } from './watch-commands.js';

export function buildProgram(): Command {
  const program = new Command('agov')
    .description('Agent Governance: trust tiers, gates, approvals and an audit ledger for AI coding agents')
    .option('--ledger <path>', 'the ledger database (default: LEDGER_PATH or ./data/ledger.db)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('serve')
    .description('run the service: HTTP server, GitHub App, Slack bot and agent API in one process')
    .option(
      '--read-only',
      'investigate: serve the web pages and health over the ledger as it is (an in-memory copy of a SQLite file, read-only connections to PostgreSQL), even one that does not verify; accept, write and send nothing',
    )
    .action(async (opts: { readOnly?: boolean }, command: Command) => {
      // As Probot does: `.env` in the working directory (what the setup page writes), under the environment.
      loadEnvFile(join(process.cwd(), '.env'));
      const env = envFor(command);
      const logger = createLogger(env.LOG_LEVEL);
      // Loaded here, not at the top: the GitHub and Slack SDKs are heavy and other commands need neither.
      const service = opts.readOnly
        ? await (await import('../app/read-only.js')).startReadOnly(env, logger)
        : await (await import('../app/service.js')).startService(env, logger);
      // Until a signal, or until this replica finds it must not serve beside the others.
      const unsafe = await new Promise<string | null>((resolve) => {
        const stop = () => resolve(null);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if ('presence' in service) void service.presence.unsafe.then(resolve);
      });
      logger.info('shutting down');
      await service.stop();
      if (unsafe) throw new UserError('replica_conflict', `${unsafe}; stopped`);
    });

  registerLedgerCommands(program);
  registerCheckpointCommands(program);
  registerAgentsCommands(program);
  registerPromotionsCommands(program);
  registerVaultCommands(program);
  registerPolicyCommands(program);
  registerConfigCommands(program);
  registerSlackCommands(program);
  registerWatchCommands(program);
  registerDemoCommand(program);
  registerChaosCommand(program);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (isUserError(error)) {
      console.error(`agov: ${error.message}`);
      return EXIT.usage;
    }
    console.error('agov: unexpected error (a bug; please report it with this output):');
    console.error(error);
    return EXIT.usage;
  }
}

process.exitCode = await main(process.argv);
