import { hash } from 'node:crypto';
import type { DerivedState } from '../core/derived-state.js';
import type { CheckpointRow } from './checkpoints.js';
import { signedText } from './checkpoints.js';
import type { LedgerDb } from './open-ledger-db.js';
import { verifySignature } from './signing-key.js';
import type { HeadCheck } from './verify-trust.js';

/** A key the verifier trusts, and how to name it in a report. */
export interface TrustedKey {
  publicKey: string;
  name: string;
}

/**
 * Every checkpoint, checked three ways: its signature against a trusted key (never the key stored
 * beside it), its state against its signed state hash, and its state against the state the chain
 * folds to at its head. The chain pass calls `reached` at each sequence; `problem` reports after.
 */
export class CheckpointCheck {
  readonly rows: CheckpointRow[];
  private next = 0;
  /** The first difference from the chain found for each checkpoint, by id. */
  private readonly stateDiffs = new Map<string, string>();

  /** `rows`: every checkpoint, oldest head first (then by creation time and id, in byte order). */
  constructor(rows: readonly CheckpointRow[]) {
    this.rows = [...rows];
  }

  /** The checkpoints of a SQLite ledger. */
  static of(db: LedgerDb): CheckpointCheck {
    return new CheckpointCheck(
      db.prepare<[], CheckpointRow>('SELECT * FROM checkpoints ORDER BY head_seq, created_at, id').all(),
    );
  }

  /** Whether a checkpoint is still to be compared: the chain pass must keep folding state. */
  wants(): boolean {
    return this.next < this.rows.length;
  }

  /**
   * Compares the checkpoints whose head is `seq` or before, not compared yet, with `state`: the
   * chain folded up to `seq`, no entry after it (the chain pass calls this before it folds the
   * next entry it reads, and with the last sequence at the end).
   */
  reached(seq: number, state: DerivedState): void {
    let chain: unknown;
    while (this.next < this.rows.length && this.rows[this.next]!.head_seq <= seq) {
      const row = this.rows[this.next++]!;
      // Through JSON, as `create` stores it: absent and undefined fields compare equal.
      chain ??= JSON.parse(JSON.stringify(state));
      let stored: unknown;
      try {
        stored = JSON.parse(row.state);
      } catch {
        this.stateDiffs.set(row.id, 'its state is not readable JSON');
        continue;
      }
      const diff = firstDifference(stored, chain, '');
      if (diff) this.stateDiffs.set(row.id, `its state differs from the chain at ${diff}`);
    }
  }

  /**
   * The first checkpoint, oldest head first, that is badly signed, whose head is not in the chain,
   * or whose state was changed. `headProblem` checks the head against the chain.
   */
  problem(
    key: TrustedKey,
    headProblem: HeadCheck,
  ): { checkpointId: string; seq: number | null; reason: string } | null {
    for (const row of this.rows) {
      const head = {
        checkpointId: row.id,
        createdAt: row.created_at,
        headSeq: row.head_seq,
        headHash: row.head_hash,
        stateHash: row.state_hash,
      };
      if (!verifySignature(key.publicKey, signedText(head), row.signature)) {
        return {
          checkpointId: row.id,
          seq: null,
          reason: `checkpoint ${row.id} is not signed by ${key.name}: it was altered or signed by someone else`,
        };
      }
      const bad = headProblem(row.head_seq, row.head_hash, `checkpoint ${row.id}`);
      if (bad) return { checkpointId: row.id, ...bad };
      if (hash('sha256', row.state) !== row.state_hash) {
        return {
          checkpointId: row.id,
          seq: null,
          reason: `checkpoint ${row.id}: its state does not match its signed state hash: the state was edited`,
        };
      }
      const diff = this.stateDiffs.get(row.id);
      if (diff) return { checkpointId: row.id, seq: null, reason: `checkpoint ${row.id}: ${diff}` };
    }
    return null;
  }
}

/** The path of the first place where `stored` and `chain` differ, with both values; null if equal. */
export function firstDifference(stored: unknown, chain: unknown, path: string): string | null {
  if (Object.is(stored, chain)) return null;
  const bothObjects =
    typeof stored === 'object' && stored !== null && typeof chain === 'object' && chain !== null;
  if (!bothObjects || Array.isArray(stored) !== Array.isArray(chain)) {
    return `${path || 'the top'}: stored ${JSON.stringify(stored) ?? 'nothing'}, the chain says ${JSON.stringify(chain) ?? 'nothing'}`;
  }
  const s = stored as Record<string, unknown>;
  const c = chain as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(c), ...Object.keys(s)])].sort();
  for (const k of keys) {
    const at = Array.isArray(stored) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    const diff = firstDifference(s[k], c[k], at);
    if (diff) return diff;
  }
  return null;
}
