import { loadOrgConfig } from '../../config/load-org-config.js';
import { readEnv } from '../../config/read-env.js';
import { UserError } from '../../platform/errors.js';
import { readVaultConfig } from '../../secrets/vault-config.js';

/** Vault as the environment configures it; a clear error when it does not. */
export async function vaultSecrets() {
  const env = readEnv();
  const config = readVaultConfig(env);
  if (!config)
    throw new UserError(
      'vault_off',
      'Vault is not configured: set VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID and VAULT_SECRET_ID)',
    );
  // Loaded on use: node-vault and its HTTP client are not needed by any other command.
  const { VaultSecrets } = await import('../../secrets/vault-secrets.js');
  return new VaultSecrets(config, loadOrgConfig(env.GOVERNANCE_CONFIG).config);
}
