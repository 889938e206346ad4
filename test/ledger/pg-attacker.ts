/**
 * What an attacker with the PostgreSQL superuser can do to a ledger database: switch the
 * append-only triggers off (`ALTER TABLE … DISABLE TRIGGER`), rewrite rows and the head row,
 * recompute hashes, sign checkpoints with a key of their own or the host's. The pure parts
 * (hashing, signing) are the SQLite attacker's.
 */
import type { KeyObject } from 'node:crypto';
import pg from 'pg';
import { type CheckpointRow, type Row, resigned } from './attacker.js';

/** Runs SQL as the superuser on the database at `url`, and returns the rows. */
export async function psql<T extends pg.QueryResultRow = Record<string, any>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** SQL run with every trigger of the chain switched off, then on again (the tidy attacker). */
export function behindTriggers(url: string, sql: string): Promise<unknown> {
  return psql(
    url,
    `ALTER TABLE ledger_entries DISABLE TRIGGER USER; ${sql}; ALTER TABLE ledger_entries ENABLE TRIGGER USER;`,
  );
}

export async function pgRows(url: string): Promise<Row[]> {
  const rows = await psql<Row & { seq: string }>(url, 'SELECT * FROM ledger_entries ORDER BY seq');
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Replaces the chain with `next` (already hashed) and moves the head row to its end. */
export async function writePgChain(url: string, next: readonly Row[]): Promise<void> {
  const last = next.at(-1)!;
  await behindTriggers(url, 'DELETE FROM ledger_entries');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('ALTER TABLE ledger_entries DISABLE TRIGGER USER');
    for (const r of next) {
      await client.query('INSERT INTO ledger_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        r.seq,
        r.ts,
        r.type,
        r.agent_id,
        r.actor,
        r.payload,
        r.prev_hash,
        r.hash,
      ]);
    }
    await client.query('UPDATE ledger_head SET seq = $1, hash = $2', [last.seq, last.hash]);
    await client.query('ALTER TABLE ledger_entries ENABLE TRIGGER USER');
  } finally {
    await client.end();
  }
}

/** Rewrites the newest checkpoint of a PostgreSQL ledger (see `resigned`). */
export async function resignPgCheckpoint(
  url: string,
  key: { privateKey: KeyObject; publicKey: string },
  edit: (state: Record<string, any>) => void = () => undefined,
  head?: { seq: number; hash: string },
): Promise<void> {
  const [c] = await psql<CheckpointRow & { head_seq: string }>(
    url,
    'SELECT * FROM checkpoints ORDER BY head_seq DESC LIMIT 1',
  );
  const r = resigned({ ...c!, head_seq: Number(c!.head_seq) }, key, edit, head);
  await psql(
    url,
    `UPDATE checkpoints SET state = $1, state_hash = $2, signature = $3, public_key = $4, head_seq = $5,
       head_hash = $6 WHERE id = $7`,
    [r.state, r.stateHash, r.signature, r.publicKey, r.headSeq, r.headHash, c!.id],
  );
}
