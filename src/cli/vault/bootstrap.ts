import type { Command } from 'commander';
import { UserError } from '../../platform/errors.js';
import { withRuntime } from '../context.js';
import { table } from '../output.js';
import { vaultSecrets } from './vault-secrets.js';

/** `agov vault bootstrap`: the tier policies, AppRole, and a role per registered agent. */
export function registerVaultBootstrap(vault: Command): void {
  vault
    .command('bootstrap')
    .description('write the tier policies, enable AppRole, and create a role per registered agent')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const agents = Object.values((await rt.governance.checkpoints.stateAtHead()).state.agents).map(
          (a) => ({
            id: a.id,
            tier: a.tier,
          }),
        );
        const calls = await (await vaultSecrets()).bootstrap(agents).catch((e: Error) => {
          throw new UserError('vault_failed', `Vault refused the bootstrap: ${e.message}`);
        });
        console.log(
          table(
            ['call', 'path', 'detail'],
            calls.map((c) => [c.op, c.path, c.detail]),
          ),
        );
      });
    });
}
