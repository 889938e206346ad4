import type pg from 'pg';
import { UserError } from '../../platform/errors.js';
import type { CheckpointRow } from '../checkpoints.js';
import { type EntryRow, type LedgerHead, rowToEntry } from '../ledger.js';
import { projectEntry } from '../projections.js';
import { insertEntryRows } from './pg-append.js';
import { insertCheckpointRows } from './pg-checkpoints.js';
import { runPgProjectionWrites } from './pg-projection-writes.js';

/**
 * Writes a chain copied from another engine, row for row (times, payload text and hashes as they
 * were), into this empty ledger in one transaction: the head row is taken first, so nothing else
 * appends meanwhile, and a ledger that already holds an entry is refused before anything is written.
 * The projections are not copied: they are rebuilt on arrival from the chain, by the projectors
 * every append runs, in the same transaction; the checkpoints are copied as they are, signatures
 * and all. Returns the head reached.
 */
export async function importChain(
  client: pg.ClientBase,
  batches: Iterable<readonly EntryRow[]>,
  checkpoints: readonly CheckpointRow[],
  where: string,
): Promise<LedgerHead> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE',
    );
    const existing = Number(rows[0]!.seq);
    if (existing !== 0) {
      throw new UserError(
        'ledger_copy_target_not_empty',
        `the ledger at ${where} already holds ${existing} entries; copy only into an empty one`,
      );
    }
    let head: LedgerHead = { seq: 0, hash: rows[0]!.hash };
    for (const batch of batches) {
      await insertEntryRows(
        client,
        batch.map((r) => [r.seq, r.ts, r.type, r.agent_id, r.actor, r.payload, r.prev_hash, r.hash] as const),
      );
      await runPgProjectionWrites(
        client,
        batch.flatMap((row) => projectEntry(rowToEntry(row))),
      );
      const last = batch.at(-1);
      if (last) head = { seq: last.seq, hash: last.hash };
    }
    // Signed as they were: their heads are the same entries, with the same hashes.
    await insertCheckpointRows(client, checkpoints);
    await client.query('COMMIT');
    return head;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
