import type { Statement } from 'better-sqlite3';
import {
  type LedgerEntry,
  type LedgerEntryInput,
  type LedgerEntryType,
  isLedgerEntryType,
  ledgerAgentIdSchema,
  ledgerPayloadSchemas,
} from '../core/ledger-entries.js';
import { UserError } from '../errors.js';
import { entryHash, GENESIS_HASH } from './entry-hash.js';
import type { LedgerDb } from './open-ledger-db.js';
import { type OutboxMessageInput, Outbox } from './outbox.js';
import { Projections } from './projections.js';

export interface LedgerHead {
  seq: number;
  hash: string;
}

interface EntryRow {
  seq: number;
  ts: string;
  type: string;
  agent_id: string | null;
  actor: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

export interface AppendOptions {
  /** Calls to make because of this entry, committed with it or not at all. */
  outbox?: readonly OutboxMessageInput[];
}

/**
 * The append-only, hash-chained ledger. Each append validates the payload, links the entry to the
 * current head, and writes the projections and outbox rows in the same transaction, so a reader
 * never sees an entry without its projections or an outbox call without its cause.
 */
export class Ledger {
  readonly outbox: Outbox;
  private readonly projections: Projections;
  private readonly insert: Statement;
  private readonly selectHead: Statement<[], { seq: number; hash: string }>;
  private readonly appendTx: (inputs: readonly LedgerEntryInput[], options: AppendOptions) => LedgerEntry[];

  constructor(
    readonly db: LedgerDb,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.outbox = new Outbox(db, now);
    this.projections = new Projections(db);
    this.insert = db.prepare(
      'INSERT INTO ledger_entries (seq, ts, type, agent_id, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectHead = db.prepare('SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1');
    const tx = db.transaction((inputs: readonly LedgerEntryInput[], options: AppendOptions) => {
      // The head is read inside the write transaction: another process may have appended since.
      let head = this.head();
      const entries: LedgerEntry[] = [];
      for (const input of inputs) {
        const { entry, payloadText } = this.link(input, head);
        this.insert.run(entry.seq, entry.ts, entry.type, entry.agentId, entry.actor, payloadText, entry.prevHash, entry.hash);
        this.projections.apply(entry);
        head = { seq: entry.seq, hash: entry.hash };
        entries.push(entry);
      }
      const last = entries.at(-1);
      if (last) for (const message of options.outbox ?? []) this.outbox.enqueue(last.seq, message);
      return entries;
    });
    this.appendTx = (inputs, options) => tx.immediate(inputs, options);
  }

  append(input: LedgerEntryInput, options: AppendOptions = {}): LedgerEntry {
    return this.appendAll([input], options)[0]!;
  }

  /** Appends several entries atomically; outbox messages are attached to the last one. */
  appendAll(inputs: readonly LedgerEntryInput[], options: AppendOptions = {}): LedgerEntry[] {
    const validated = inputs.map(validateInput);
    return this.appendTx(validated, options);
  }

  head(): LedgerHead {
    return this.selectHead.get() ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Entries with `seq > afterSeq`, oldest first. */
  entriesAfter(afterSeq: number, limit = 1000): LedgerEntry[] {
    return this.db
      .prepare<[number, number], EntryRow>('SELECT * FROM ledger_entries WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(afterSeq, limit)
      .map(rowToEntry);
  }

  /** The newest entries of one agent, newest first. */
  latestForAgent(agentId: string, limit: number): LedgerEntry[] {
    return this.db
      .prepare<[string, number], EntryRow>(
        'SELECT * FROM ledger_entries WHERE agent_id = ? ORDER BY seq DESC LIMIT ?',
      )
      .all(agentId, limit)
      .map(rowToEntry);
  }

  count(): number {
    return this.head().seq;
  }

  close(): void {
    this.db.close();
  }

  private link(input: LedgerEntryInput, head: LedgerHead): { entry: LedgerEntry; payloadText: string } {
    const seq = head.seq + 1;
    const ts = this.now().toISOString();
    const payloadText = JSON.stringify(input.payload);
    const hash = entryHash({ seq, ts, type: input.type, agentId: input.agentId, actor: input.actor, payload: payloadText, prevHash: head.hash });
    return { entry: { ...input, seq, ts, prevHash: head.hash, hash } as LedgerEntry, payloadText };
  }
}

function validateInput(input: LedgerEntryInput): LedgerEntryInput {
  if (!isLedgerEntryType(input.type)) {
    throw new UserError('ledger_bad_entry', `unknown ledger entry type "${String(input.type)}"`);
  }
  const schema = ledgerPayloadSchemas[input.type as LedgerEntryType];
  const payload = schema.safeParse(input.payload);
  const agentId = ledgerAgentIdSchema.safeParse(input.agentId);
  if (!payload.success || !agentId.success || typeof input.actor !== 'string' || input.actor === '') {
    const issue = !payload.success ? payload.error.issues[0] : !agentId.success ? agentId.error.issues[0] : undefined;
    throw new UserError(
      'ledger_bad_entry',
      `invalid ${input.type} entry: ${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'actor is required'}`,
    );
  }
  return { ...input, payload: payload.data } as LedgerEntryInput;
}

export function rowToEntry(row: EntryRow): LedgerEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    type: row.type,
    agentId: row.agent_id,
    actor: row.actor,
    payload: JSON.parse(row.payload),
    prevHash: row.prev_hash,
    hash: row.hash,
  } as LedgerEntry;
}

export type { EntryRow };
