import type { Command } from 'commander';
import type { PinnedKey } from '../../ledger/pinned-key.js';
import { publicKeyPem } from '../../ledger/signing-key.js';
import { UserError } from '../../platform/errors.js';
import { withDatabaseOption, withLedgerCommandSource } from './ledger-source.js';

/** `agov ledger head`: the newest checkpoint's signed head and the pinned key, to keep off the host. */
export function registerLedgerHead(ledger: Command): void {
  withDatabaseOption(ledger.command('head'))
    .description(
      'export the signed head of the newest checkpoint and the pinned public key (keep them off this host)',
    )
    .option('--checkpoint <id>', 'a specific checkpoint instead of the newest')
    .option('--public-key', 'print only the pinned public key, as PEM, for `agov ledger verify --public-key`')
    .action(async (opts: { checkpoint?: string; publicKey?: boolean }, command: Command) => {
      await withLedgerCommandSource(command, async (reader) => {
        const pinned = await reader.pinnedKey();
        if (opts.publicKey) {
          if (!pinned)
            throw new UserError(
              'no_pinned_key',
              'no key is pinned in this ledger yet; the first checkpoint pins it: `agov checkpoint create`',
            );
          process.stdout.write(pinnedPem(pinned));
          return;
        }
        const checkpoint = await reader.checkpoint(opts.checkpoint);
        if (!checkpoint)
          throw new UserError('no_checkpoint', 'no checkpoint yet; create one with `agov checkpoint create`');
        const { state: _state, ...head } = checkpoint;
        console.log(JSON.stringify({ ...head, pinnedKey: pinned }, null, 2));
      });
    });
}

/** The pinned key as PEM; a pinned text that is no public key is refused, named. */
function pinnedPem(pinned: PinnedKey): string {
  try {
    return publicKeyPem(pinned.publicKey);
  } catch {
    throw new UserError(
      'pinned_key_malformed',
      `the key pinned at entry ${pinned.seq} is not a public key: the ledger was tampered with; run \`agov ledger verify\``,
    );
  }
}
