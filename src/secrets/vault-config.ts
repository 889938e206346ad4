import type { Env } from '../config/read-env.js';
import { UserError } from '../platform/errors.js';

export type VaultConfig =
  | { addr: string; auth: { kind: 'token'; token: string } }
  | { addr: string; auth: { kind: 'approle'; roleId: string; secretId: string } };

/** `VAULT_ADDR` with a token or an AppRole login; null (Vault off) when `VAULT_ADDR` is unset. */
export function readVaultConfig(env: Env): VaultConfig | null {
  if (!env.VAULT_ADDR) return null;
  if (!/^https?:\/\//.test(env.VAULT_ADDR))
    throw new UserError(
      'vault_config_invalid',
      'VAULT_ADDR must be an http(s) URL, e.g. https://vault.example.com:8200',
    );
  if (env.VAULT_TOKEN) return { addr: env.VAULT_ADDR, auth: { kind: 'token', token: env.VAULT_TOKEN } };
  if (env.VAULT_ROLE_ID && env.VAULT_SECRET_ID) {
    return {
      addr: env.VAULT_ADDR,
      auth: { kind: 'approle', roleId: env.VAULT_ROLE_ID, secretId: env.VAULT_SECRET_ID },
    };
  }
  throw new UserError(
    'vault_config_incomplete',
    'VAULT_ADDR is set but neither VAULT_TOKEN nor VAULT_ROLE_ID with VAULT_SECRET_ID is',
  );
}
