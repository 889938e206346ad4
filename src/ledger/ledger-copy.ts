import { UserError } from '../platform/errors.js';
import type { CheckpointRow } from './checkpoints.js';
import { dbOf, type EntryRow, type Ledger, type LedgerHead } from './ledger.js';
import { importChain } from './postgres/pg-import.js';
import type { PostgresLedger } from './postgres/postgres-ledger.js';
import type { VerifyOptions } from './verify-verdict.js';

const BATCH = 2000;

/**
 * Copies the SQLite ledger's chain up to `upTo` (a head its verify vouched for) into an empty
 * PostgreSQL ledger, keeping every hash, with its projections rebuilt there from the chain (never
 * copied) and its checkpoints (head at `upTo` or before) as they were signed, then verifies on
 * arrival as `agov ledger verify` does (chain, pinned key, checkpoints, projections; `options`:
 * the keys the source was verified with): the head returned is one both sides hold. The outbox,
 * inbox and bookkeeping are not copied (see README: PostgreSQL preview).
 */
export async function copyChainToPostgres(
  source: Ledger,
  target: PostgresLedger,
  upTo: LedgerHead,
  options: VerifyOptions = {},
): Promise<{ head: LedgerHead; copied: number; checkpoints: number }> {
  const checkpoints = dbOf(source)
    .prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE head_seq <= ? ORDER BY head_seq, id')
    .all(upTo.seq);
  const reached = await target
    .withClient((client) => importChain(client, rowBatches(source, upTo.seq), checkpoints, target.where))
    .catch((error: unknown) => {
      if (error instanceof UserError) throw error;
      throw new UserError(
        'ledger_copy_failed',
        `the copy into ${target.where} failed and was rolled back: ${(error as Error).message}`,
        { cause: error },
      );
    });
  if (reached.seq !== upTo.seq || reached.hash !== upTo.hash) {
    throw new UserError(
      'ledger_copy_mismatch',
      `the copy ended at entry ${reached.seq} (${reached.hash}), not at the source's head ${upTo.seq} (${upTo.hash})`,
    );
  }
  const verdict = await target.verifyLedger([], options);
  if (!verdict.ok) {
    throw new UserError(
      'ledger_copy_unverified',
      `the copy at ${target.where} does not verify: first bad sequence ${verdict.firstBadSeq}: ${verdict.reason}`,
    );
  }
  if (verdict.head.seq !== upTo.seq || verdict.head.hash !== upTo.hash) {
    throw new UserError(
      'ledger_copy_mismatch',
      `the copy at ${target.where} verifies to head ${verdict.head.seq} (${verdict.head.hash}), not the source's ${upTo.seq} (${upTo.hash})`,
    );
  }
  return { head: verdict.head, copied: upTo.seq, checkpoints: checkpoints.length };
}

/** The stored rows (payload as the text hashed), in chain order, a batch at a time. */
function* rowBatches(source: Ledger, upTo: number): Generator<EntryRow[]> {
  const select = dbOf(source).prepare<[number, number, number], EntryRow>(
    'SELECT * FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
  );
  for (let after = 0; after < upTo; ) {
    const rows = select.all(after, upTo, BATCH);
    if (rows.length === 0) return;
    yield rows;
    after = rows.at(-1)!.seq;
  }
}
