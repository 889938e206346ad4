import type { Command } from 'commander';
import { verifySignedHead } from '../../ledger/checkpoints.js';
import { readPublicKeyText } from '../../ledger/signing-key.js';
import type { TrustedHead, VerifyResult } from '../../ledger/verify.js';
import { schemaProblemAt } from '../../ledger/verify-schema.js';
import { schemaVerdict } from '../../ledger/verify-verdict.js';
import { UserError } from '../../platform/errors.js';
import { envFor } from '../context.js';
import { EXIT } from '../output.js';
import { readHeadFile, readText } from './files.js';
import { ledgerSourceOf, withDatabaseOption, withLedgerCommandSource } from './ledger-source.js';

type PinnedKey = { key: string; source: string };

/** `agov ledger verify`: replays the chain; exit 1 at the first thing that does not hold. */
export function registerLedgerVerify(ledger: Command): void {
  withDatabaseOption(ledger.command('verify'))
    .description(
      'replay the chain: hashes, the pinned key, every checkpoint (signature, head, state) and every projection table',
    )
    .option('--head <file>', 'a signed head exported earlier with `agov ledger head`, kept off this host')
    .option(
      '--public-key <file>',
      'the public key exported with `agov ledger head --public-key`, kept off this host: the pinned key must be it',
    )
    .action(async (opts: { head?: string; publicKey?: string }, command: Command) => {
      const publicKey = opts.publicKey
        ? {
            key: readPublicKeyText(readText(opts.publicKey, 'public key'), opts.publicKey),
            source: opts.publicKey,
          }
        : undefined;
      const external = opts.head ? readHeadFile(opts.head) : null;
      if (external && publicKey && !verifySignedHead(external, publicKey.key)) {
        throw new UserError(
          'head_file_forged',
          `${opts.head} is not signed by the key in ${publicKey.source}: it was altered or signed by someone else`,
        );
      }
      const early =
        ledgerSourceOf(command).engine === 'sqlite' ? schemaProblemAt(ledgerPathOf(command)) : null;
      if (early) return printBroken(schemaVerdict(early.object, early.reason, []));
      await withLedgerCommandSource(command, async (reader) => {
        const heads: TrustedHead[] = external
          ? [{ seq: external.headSeq, hash: external.headHash, source: `head file ${opts.head}` }]
          : [];
        const result = await reader.verify(heads, publicKey);
        for (const note of result.notes) console.log(`note: ${note}`);
        if (result.ok) printIntact(result, publicKey);
        else printBroken(result);
      });
    });
}

/** The SQLite file the command names (`--ledger PATH`, else LEDGER_PATH). */
function ledgerPathOf(command: Command): string {
  return envFor(command).LEDGER_PATH ?? '';
}

function printBroken(result: Extract<VerifyResult, { ok: false }>): void {
  const p = result.problem;
  if (p.kind === 'entry') console.log(`first bad sequence: ${p.seq}`);
  else if (p.kind === 'checkpoint') console.log(`first bad checkpoint: ${p.checkpointId}`);
  else if (p.kind === 'schema') console.log(`first bad schema object: ${p.object}`);
  else console.log(`first bad table: ${p.table}\nfirst bad key: ${p.key}`);
  console.log(result.reason);
  console.log(`${result.checked} entries checked`);
  process.exitCode = EXIT.checkFailed;
}

function printIntact(result: Extract<VerifyResult, { ok: true }>, publicKey: PinnedKey | undefined): void {
  console.log(
    `ok: ${result.checked} entries checked, chain intact, head ${result.head.seq} ${result.head.hash}`,
  );
  const n = result.checkpoints.count;
  console.log(
    n === 0
      ? 'ok: no checkpoint yet'
      : `ok: ${n} checkpoint${n === 1 ? '' : 's'} signed by ${result.checkpoints.key}, ${n === 1 ? 'its state matches' : 'their states match'} the chain`,
  );
  if (publicKey && result.pinned)
    console.log(`ok: the key pinned at entry ${result.pinned.seq} is the one in ${publicKey.source}`);
  console.log(`ok: projections match the chain (${result.tables.join(', ')})`);
}
