/**
 * What an attacker on the host can do to a ledger database with the `sqlite3` shell and a few
 * lines of script: recompute entry hashes, sign with a key of their own or with the host's key.
 * Every change is written through the `sqlite3` shell, as an attacker would.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { sqlite } from '../helpers/agov.js';

export interface Row {
  seq: number;
  ts: string;
  type: string;
  agent_id: string | null;
  actor: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

const q = (v: string | number | null) =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`;

export function rows(ledger: string): Row[] {
  const db = new Database(ledger, { readonly: true });
  try {
    return db.prepare('SELECT * FROM ledger_entries ORDER BY seq').all() as Row[];
  } finally {
    db.close();
  }
}

export function hashOf(r: Omit<Row, 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([r.seq, r.ts, r.type, r.agent_id, r.actor, r.payload, r.prev_hash]))
    .digest('hex');
}

/** Runs SQL in the sqlite3 shell and fails the test if the shell refused it. */
export function shell(ledger: string, sql: string): void {
  const r = sqlite(ledger, sql);
  if (r.status !== 0) throw new Error(`sqlite3 refused: ${r.stderr}`);
}

/** Replaces the chain with `next` (already hashed), past the append-only triggers. */
export function writeChain(ledger: string, next: readonly Row[]): void {
  const values = next
    .map(
      (r) =>
        `(${[r.seq, r.ts, r.type, r.agent_id, r.actor, r.payload, r.prev_hash, r.hash].map(q).join(', ')})`,
    )
    .join(',\n');
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_no_delete; DROP TRIGGER ledger_entries_chained;
     DELETE FROM ledger_entries; INSERT INTO ledger_entries VALUES ${values};`,
  );
}

/** Re-links and re-hashes every entry, so the chain is self-consistent again. */
export function rehash(chain: readonly Omit<Row, 'hash' | 'prev_hash'>[]): Row[] {
  let prev = '0'.repeat(64);
  return chain.map((r, i) => {
    const linked = { ...r, seq: i + 1, prev_hash: prev };
    const row = { ...linked, hash: hashOf(linked) };
    prev = row.hash;
    return row;
  });
}

export function otherKey(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

/** The host's own checkpoint signing key, read from beside the ledger as an attacker on the host can. */
export function hostKey(ledger: string): { privateKey: KeyObject; publicKey: string } {
  const privateKey = createPrivateKey(readFileSync(join(dirname(ledger), 'ledger-signing-key.pem'), 'utf8'));
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  return { privateKey, publicKey };
}

export interface CheckpointRow {
  id: string;
  created_at: string;
  head_seq: number;
  head_hash: string;
  state: string;
}

/**
 * A checkpoint's columns rewritten: its state (through `edit`), its state hash, its head (when
 * given), its signature with `key`, and the public key stored beside it.
 */
export function resigned(
  c: CheckpointRow,
  key: { privateKey: KeyObject; publicKey: string },
  edit: (state: Record<string, any>) => void = () => undefined,
  head?: { seq: number; hash: string },
) {
  const state = JSON.parse(c.state);
  edit(state);
  const stateText = JSON.stringify(state);
  const stateHash = createHash('sha256').update(stateText).digest('hex');
  const headSeq = head?.seq ?? c.head_seq;
  const headHash = head?.hash ?? c.head_hash;
  const signature = sign(
    null,
    Buffer.from(JSON.stringify([c.id, c.created_at, headSeq, headHash, stateHash])),
    key.privateKey,
  ).toString('base64');
  return { state: stateText, stateHash, headSeq, headHash, signature, publicKey: key.publicKey };
}

/** Rewrites the newest checkpoint of a SQLite ledger (see `resigned`). */
export function resignCheckpoint(
  ledger: string,
  key: { privateKey: KeyObject; publicKey: string },
  edit: (state: Record<string, any>) => void = () => undefined,
  head?: { seq: number; hash: string },
): void {
  const db = new Database(ledger, { readonly: true });
  const c = db.prepare('SELECT * FROM checkpoints ORDER BY head_seq DESC LIMIT 1').get() as CheckpointRow;
  db.close();
  const r = resigned(c, key, edit, head);
  shell(
    ledger,
    `UPDATE checkpoints SET state = ${q(r.state)}, state_hash = ${q(r.stateHash)}, signature = ${q(r.signature)},
       public_key = ${q(r.publicKey)}, head_seq = ${r.headSeq}, head_hash = ${q(r.headHash)} WHERE id = ${q(c.id)};`,
  );
}
