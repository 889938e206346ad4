import type { Command } from 'commander';
import { registerVaultBootstrap } from './bootstrap.js';
import { registerVaultStatus } from './status.js';

/** `agov vault …`: Vault tier policies and agent AppRoles. */
export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault').description('Vault tier policies and agent AppRoles');
  registerVaultStatus(vault);
  registerVaultBootstrap(vault);
}
