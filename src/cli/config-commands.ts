import type { Command } from 'commander';
import { loadOrgConfig } from '../config/load-org-config.js';
import { readEnv } from '../config/read-env.js';
import { EXIT } from './output.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the organisation config (GOVERNANCE_CONFIG)');

  config
    .command('validate [file]')
    .description(
      'check an organisation config: exit 0 when valid (warnings printed), 1 when it has warnings with --strict',
    )
    .option('--strict', 'exit 1 when there are warnings too')
    .action((file: string | undefined, opts: { strict?: boolean }) => {
      const loaded = loadOrgConfig(file ?? readEnv().GOVERNANCE_CONFIG);
      for (const warning of loaded.warnings) console.log(`warning: ${warning}`);
      if (!loaded.path) {
        console.log('ok: no organisation config; the built-in defaults apply (nobody may approve)');
        return;
      }
      const c = loaded.config;
      console.log(
        `ok: ${loaded.path} is valid: ${c.agents.length} agent(s), ${c.approvers.length} approver(s), ${c.people.length} other people${c.council ? `, a council of quorum ${c.council.quorum}` : ''}`,
      );
      if (opts.strict && loaded.warnings.length) process.exitCode = EXIT.checkFailed;
    });
}
