import type pg from 'pg';
import type { LedgerVerdict } from '../async-ledger.js';
import { PROJECTION_TABLES } from '../projections.js';
import { walkPgChain } from './pg-chain-check.js';
import { checkPgProjections } from './pg-projection-check.js';

/**
 * The chain, then the projection tables rebuilt from it, in one snapshot (REPEATABLE READ; never
 * committed: the replay's temporary tables go with the rollback). The chain's verdict comes first:
 * projections are compared only with a chain that verifies.
 */
export async function verifyPg(client: pg.ClientBase): Promise<LedgerVerdict> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  try {
    const chain = await walkPgChain(client);
    if (!chain.ok) return chain;
    const mismatch = await checkPgProjections(client, chain.head.seq);
    if (!mismatch) return { ...chain, tables: PROJECTION_TABLES.map((t) => t.table) };
    return {
      ok: false,
      checked: chain.checked,
      firstBadSeq: mismatch.seq ?? 0,
      reason: mismatch.reason,
      projection: { table: mismatch.table, key: mismatch.key },
    };
  } finally {
    await client.query('ROLLBACK');
  }
}
