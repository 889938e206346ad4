import type pg from 'pg';
import { UserError } from '../../platform/errors.js';
import type { EntryRow, LedgerHead } from '../ledger.js';
import { insertEntryRows } from './pg-append.js';

/**
 * Writes a chain copied from another engine, row for row (times, payload text and hashes as they
 * were), into this empty ledger in one transaction: the head row is taken first, so nothing else
 * appends meanwhile, and a ledger that already holds an entry is refused before anything is written.
 * Returns the head reached.
 */
export async function importChain(
  client: pg.ClientBase,
  batches: Iterable<readonly EntryRow[]>,
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
      const last = batch.at(-1);
      if (last) head = { seq: last.seq, hash: last.hash };
    }
    await client.query('COMMIT');
    return head;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
