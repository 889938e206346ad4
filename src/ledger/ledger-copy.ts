import { UserError } from '../platform/errors.js';
import { dbOf, type EntryRow, type Ledger, type LedgerHead } from './ledger.js';
import { importChain } from './postgres/pg-import.js';
import type { PostgresLedger } from './postgres/postgres-ledger.js';

const BATCH = 2000;

/**
 * Copies the SQLite ledger's chain up to `upTo` (a head its verify vouched for) into an empty
 * PostgreSQL ledger, keeping every hash, then verifies the chain on arrival: the head returned is
 * one both sides hold. Only the chain is copied (see README: PostgreSQL preview).
 */
export async function copyChainToPostgres(
  source: Ledger,
  target: PostgresLedger,
  upTo: LedgerHead,
): Promise<{ head: LedgerHead; copied: number }> {
  const reached = await target
    .withClient((client) => importChain(client, rowBatches(source, upTo.seq), target.where))
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
  const verdict = await target.verifyChain();
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
  return { head: verdict.head, copied: upTo.seq };
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
