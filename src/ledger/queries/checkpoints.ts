import { UserError } from '../../platform/errors.js';
import { type Checkpoint, type CheckpointRow, rowToCheckpoint, type SignedHead } from '../checkpoints.js';
import { perEngine } from '../ledger-reader.js';
import { allQuery, getQuery } from './query.js';

/**
 * The checkpoints' reads, once for both engines: `agov checkpoint list` and `show`, the newest one
 * restore starts from. Text sorts in code point order on both (SQLite's BINARY collation).
 */
export const checkpointQueries = {
  /** The newest head first: where restore starts. */
  latest: getQuery<[], CheckpointRow, Checkpoint | null>({
    sql: perEngine(
      (d) => `SELECT * FROM checkpoints ORDER BY head_seq DESC, ${d.byText('created_at')} DESC LIMIT 1`,
    ),
    map: (row) => (row ? rowToCheckpoint(row) : null),
  }),
  /** Every checkpoint's signed head (without its state), newest first. */
  list: allQuery<[], CheckpointRow, SignedHead[]>({
    sql: perEngine(
      (d) => `SELECT * FROM checkpoints ORDER BY ${d.byText('created_at')} DESC, ${d.byText('id')} DESC`,
    ),
    map: (rows) => rows.map((row) => rowToCheckpoint(row)).map(({ state: _state, ...head }) => head),
  }),
  /** The checkpoint `id`; an id no checkpoint has is the user's mistake, said in one line. */
  byId: getQuery<[id: string], CheckpointRow, Checkpoint>({
    sql: 'SELECT * FROM checkpoints WHERE id = ?',
    map: (row, id) => {
      if (!row)
        throw new UserError('checkpoint_not_found', `no checkpoint ${id}; see \`agov checkpoint list\``);
      return rowToCheckpoint(row);
    },
  }),
};
