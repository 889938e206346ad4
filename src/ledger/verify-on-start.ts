import { UserError } from '../platform/errors.js';
import type { SigningKey } from './signing-key.js';
import type { VerifyResult } from './verify-verdict.js';

/**
 * What `serve` checks before it trusts the ledger: the whole chain, its checkpoints and its
 * projections (the API authenticates agents from `agent_metrics`, and restore starts from the
 * newest checkpoint), and that this host signs with the key the ledger pinned. Throws a
 * `UserError` that says what is wrong and how to look; returns how many entries were checked.
 */
export async function verifyOnStart(
  verify: () => Promise<VerifyResult>,
  key: SigningKey,
  where: string,
): Promise<{ checked: number; ms: number }> {
  const started = performance.now();
  const result = await verify();
  if (!result.ok) {
    throw new UserError(
      'ledger_tampered',
      `the ledger at ${where} does not verify: ${result.reason}; refusing to start. Investigate with \`agov ledger verify\` (read-only, like \`agov ledger export\` and \`agov checkpoint list\`), then restore the database from a backup, or start read-only to look through the service (\`agov serve --read-only\`: nothing is written, nothing is sent)`,
    );
  }
  // The key pinned in the chain verify replayed, never a row outside it.
  const pinned = result.pinned;
  if (pinned && pinned.publicKey !== key.publicKey) {
    throw new UserError(
      'signing_key_not_pinned',
      `the ledger signing key is not the key pinned in the ledger at entry ${pinned.seq}; refusing to start: checkpoints it signed would fail verification. Use the original key (LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_PATH)`,
    );
  }
  return { checked: result.checked, ms: Math.round(performance.now() - started) };
}
