import type { Command } from 'commander';
import { UserError } from '../../platform/errors.js';
import { vaultSecrets } from './vault-secrets.js';

/** `agov vault status`: Vault's health; exit 1 when it is down. */
export function registerVaultStatus(vault: Command): void {
  vault
    .command('status')
    .description("Vault's health (active, standby, sealed, uninitialised)")
    .action(async () => {
      const h = await (await vaultSecrets()).health().catch((e: Error) => {
        throw new UserError('vault_unreachable', `cannot reach Vault: ${e.message}`);
      });
      console.log(`vault: ${h.state} (${h.detail})`);
      if (h.state === 'down') process.exitCode = 1;
    });
}
