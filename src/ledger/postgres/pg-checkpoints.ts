import type pg from 'pg';
import type { Checkpoint, CheckpointRow } from '../checkpoints.js';
import type { LedgerReader } from '../ledger-reader.js';
import { type PinnedKey, pinnedKeyOf } from '../pinned-key.js';
import { checkpointQueries } from '../queries/checkpoints.js';
import { pgReader } from './pg-reader.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

const COLUMNS = 'id, created_at, head_seq, head_hash, state, state_hash, signature, public_key';
/** Text in byte order, as SQLite orders it, whatever the database's collation. */
const OLDEST_HEAD_FIRST = 'ORDER BY head_seq, created_at COLLATE "C", id COLLATE "C"';

/** Every checkpoint, oldest head first: what verify checks. */
export async function pgCheckpointRows(db: Queryable): Promise<CheckpointRow[]> {
  const { rows } = await db.query<CheckpointRow & { head_seq: string }>(
    `SELECT ${COLUMNS} FROM checkpoints ${OLDEST_HEAD_FIRST}`,
  );
  return rows.map((row) => ({ ...row, head_seq: Number(row.head_seq) }));
}

/** The checkpoints of a PostgreSQL ledger, read as `agov ledger head` reads SQLite's. */
export class PgCheckpoints {
  private readonly reader: LedgerReader;

  constructor(private readonly db: pg.Pool | pg.ClientBase) {
    this.reader = pgReader(db);
  }

  latest(): Promise<Checkpoint | null> {
    return checkpointQueries.latest.read(this.reader);
  }

  get(id: string): Promise<Checkpoint> {
    return checkpointQueries.byId.read(this.reader, id);
  }

  /** The first `ledger.key_pinned` entry's key: the one checkpoints are signed by. */
  async pinnedKey(): Promise<PinnedKey | null> {
    const { rows } = await this.db.query<{ seq: string; payload: string }>(
      "SELECT seq, payload FROM ledger_entries WHERE type = 'ledger.key_pinned' AND seq >= 1 ORDER BY seq LIMIT 1",
    );
    return rows[0] ? pinnedKeyOf({ seq: Number(rows[0].seq), payload: rows[0].payload }) : null;
  }
}

/** Stores checkpoints written elsewhere as they are (a copy from another engine), in the caller's transaction. */
export async function insertCheckpointRows(
  client: pg.ClientBase,
  rows: readonly CheckpointRow[],
): Promise<void> {
  for (const r of rows) {
    await client.query(`INSERT INTO checkpoints (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      r.id,
      r.created_at,
      r.head_seq,
      r.head_hash,
      r.state,
      r.state_hash,
      r.signature,
      r.public_key,
    ]);
  }
}
