import type { Statement, Transaction } from 'better-sqlite3';
import {
  isLedgerEntryType,
  type LedgerEntry,
  type LedgerEntryInput,
  type LedgerEntryType,
  ledgerAgentIdSchema,
  ledgerPayloadSchemas,
} from '../core/ledger-entries.js';
import { UserError } from '../platform/errors.js';
import { GENESIS_HASH } from './entry-hash.js';
import { linkEntry } from './link-entry.js';
import { type LedgerDb, type OpenLedgerOptions, openLedgerDb, snapshotLedgerDb } from './open-ledger-db.js';
import { Outbox, type OutboxMessageInput } from './outbox.js';
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

interface AppendGroup {
  /** The entries, or a function that decides them inside the write transaction. */
  inputs: readonly LedgerEntryInput[] | (() => readonly LedgerEntryInput[]);
  outbox?: readonly OutboxMessageInput[] | undefined;
}

/** A group whose decision threw (or decided an invalid entry) inside a shared commit: nothing of it was written. */
class RefusedDecision {
  constructor(readonly error: unknown) {}
}

type GroupResult = LedgerEntry[] | RefusedDecision;

const appended = (results: readonly GroupResult[]): LedgerEntry[] =>
  results.flatMap((r) => (r instanceof RefusedDecision ? [] : r));

interface PendingAppend {
  group: AppendGroup;
  resolve: (entries: LedgerEntry[]) => void;
  reject: (error: unknown) => void;
}

/** Opens (or creates, mode 0600) the ledger file at `path`, migrated to the current schema. */
export function openLedger(
  path: string,
  options: OpenLedgerOptions = {},
  now: () => Date = () => new Date(),
): Ledger {
  const db = openLedgerDb(path, options);
  try {
    return new Ledger(db, now);
  } catch (error) {
    db.close();
    // A schema changed by hand (a table replaced by a view, a column dropped): named, never a crash.
    throw new UserError(
      'ledger_open_failed',
      `cannot open the ledger at ${path}: ${(error as Error).message}; its schema is not the one this build creates: check it with \`agov ledger verify\``,
      { cause: error },
    );
  }
}

/** A private in-memory copy of the ledger at `path` (see `snapshotLedgerDb`). */
export function openLedgerSnapshot(path: string, now: () => Date = () => new Date()): Ledger {
  return new Ledger(snapshotLedgerDb(path), now);
}

/** A ledger, or the database under it: what the storage modules of src/ledger accept. */
export type LedgerSource = Ledger | LedgerDb;

const databases = new WeakMap<Ledger, LedgerDb>();

/**
 * The database under a ledger, for the modules of src/ledger only: everything else reads and
 * writes through the ledger and its typed queries (a test in test/ledger checks the boundary).
 */
export function dbOf(source: LedgerSource): LedgerDb {
  return source instanceof Ledger ? databases.get(source)! : source;
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
  private cachedHead: LedgerHead | null = null;
  private readonly pending: PendingAppend[] = [];
  private readonly appendTx: (groups: readonly AppendGroup[]) => GroupResult[];
  /** Runs a function in a transaction (a savepoint when nested): one wrapper, not one per call. */
  private readonly inTransaction: Transaction<(fn: () => unknown) => unknown>;
  private readonly after: Statement<[number, number], EntryRow>;
  /**
   * Entries this process appended and saw committed, by seq: followers and the state sync read
   * them back at once, and need not read and parse them again. An entry appended inside an open
   * transaction is kept only once the outermost one commits (until then it may be rolled back,
   * and its seq given to another).
   */
  private readonly recent = new Map<number, LedgerEntry>();
  /** Appended inside a transaction still open: kept once the outermost one commits. */
  private uncommitted: LedgerEntry[] = [];

  constructor(
    private readonly db: LedgerDb,
    private readonly now: () => Date = () => new Date(),
  ) {
    databases.set(this, db);
    this.outbox = new Outbox(db, now);
    this.projections = new Projections(db);
    this.insert = db.prepare(
      'INSERT INTO ledger_entries (seq, ts, type, agent_id, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
    this.selectHead = db.prepare(
      'SELECT seq, hash FROM ledger_entries NOT INDEXED ORDER BY seq DESC LIMIT 1',
    );
    this.after = db.prepare('SELECT * FROM ledger_entries NOT INDEXED WHERE seq > ? ORDER BY seq LIMIT ?');
    const tx = db.transaction((groups: readonly AppendGroup[]) => {
      // The cached head saves a read per append. If another process appended since, the chain
      // trigger refuses the insert and the append is retried once with the head read afresh.
      let head = this.cachedHead ?? this.head();
      return groups.map((group): GroupResult => {
        const entries: LedgerEntry[] = [];
        let inputs: readonly LedgerEntryInput[];
        try {
          inputs = typeof group.inputs === 'function' ? group.inputs().map(validateInput) : group.inputs;
        } catch (error) {
          // Decided before any of its rows: refused alone, the groups beside it still commit.
          return new RefusedDecision(error);
        }
        for (const input of inputs) {
          const { entry, payloadText } = this.link(input, head);
          this.insert.run(
            entry.seq,
            entry.ts,
            entry.type,
            entry.agentId,
            entry.actor,
            payloadText,
            entry.prevHash,
            entry.hash,
          );
          this.projections.apply(entry);
          head = { seq: entry.seq, hash: entry.hash };
          entries.push(entry);
        }
        const last = entries.at(-1);
        if (last) for (const message of group.outbox ?? []) this.outbox.enqueue(last.seq, message);
        return entries;
      });
    });
    this.appendTx = (groups) => {
      const run = () => {
        const results = tx.immediate(groups);
        const entries = appended(results);
        const last = entries.at(-1);
        if (last) this.cachedHead = { seq: last.seq, hash: last.hash };
        if (db.inTransaction) this.uncommitted.push(...entries);
        else this.keepRecent(entries);
        return results;
      };
      try {
        return run();
      } catch (error) {
        this.cachedHead = null;
        if (!isStaleHeadError(error)) throw error;
        return run();
      }
    };
  }

  append(input: LedgerEntryInput, options: AppendOptions = {}): LedgerEntry {
    return this.appendAll([input], options)[0]!;
  }

  /** Appends several entries atomically; outbox messages are attached to the last one. */
  appendAll(inputs: readonly LedgerEntryInput[], options: AppendOptions = {}): LedgerEntry[] {
    const group = { inputs: inputs.map(validateInput), outbox: options.outbox };
    return this.appendTx([group])[0] as LedgerEntry[];
  }

  /**
   * Like `appendAll`, but commits together with every other append requested in the same turn of
   * the event loop (group commit): one transaction, one WAL commit for many concurrent writers.
   * Resolves once the entries are committed; each group stays atomic on its own. A function
   * decides its entries inside that transaction (reads only); one that throws, or decides an
   * invalid entry, is refused alone.
   */
  appendSoon(
    inputs: readonly LedgerEntryInput[] | (() => readonly LedgerEntryInput[]),
    options: AppendOptions = {},
  ): Promise<LedgerEntry[]> {
    let group: AppendGroup;
    try {
      group = {
        inputs: typeof inputs === 'function' ? inputs : inputs.map(validateInput),
        outbox: options.outbox,
      };
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ group, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flushPending());
    });
  }

  private flushPending(): void {
    const batch = this.pending.splice(0);
    try {
      const results = this.appendTx(batch.map((p) => p.group));
      for (const [i, p] of batch.entries()) {
        const result = results[i]!;
        if (result instanceof RefusedDecision) p.reject(result.error);
        else p.resolve(result);
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  /**
   * Runs `fn` in one write transaction: appends and other writes inside it commit together, and
   * reads inside it see a ledger no other process can change until it ends.
   */
  atomically<T>(fn: () => T): T {
    const mark = this.uncommitted.length;
    try {
      const result = this.inTransaction.immediate(fn) as T;
      if (!this.db.inTransaction) this.keepRecent(this.uncommitted.splice(0));
      return result;
    } catch (error) {
      // Rolled back (to its savepoint, when nested): what it appended never happened.
      this.uncommitted.length = Math.min(mark, this.uncommitted.length);
      throw error;
    }
  }

  head(): LedgerHead {
    return this.selectHead.get() ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Entries with `seq > afterSeq`, oldest first; at most `limit`, and maybe fewer than there are
   * (ask again after the last one until none come back).
   */
  entriesAfter(afterSeq: number, limit = 1000): LedgerEntry[] {
    const kept: LedgerEntry[] = [];
    for (let seq = afterSeq + 1; kept.length < limit; seq++) {
      const entry = this.recent.get(seq);
      if (!entry) break;
      kept.push(entry);
    }
    if (kept.length > 0) return kept;
    return this.after.all(afterSeq, limit).map(rowToEntry);
  }

  private keepRecent(entries: readonly LedgerEntry[]): void {
    for (const entry of entries) this.recent.set(entry.seq, entry);
    while (this.recent.size > RECENT_KEPT) this.recent.delete(this.recent.keys().next().value!);
  }

  count(): number {
    return this.head().seq;
  }

  close(): void {
    this.db.close();
  }

  private link(input: LedgerEntryInput, head: LedgerHead): { entry: LedgerEntry; payloadText: string } {
    return linkEntry(input, head, this.now().toISOString());
  }
}

/** Entries kept after their commit for the readers that follow right behind (followers, state sync). */
const RECENT_KEPT = 2000;

function isStaleHeadError(error: unknown): boolean {
  return error instanceof Error && error.message.includes('must extend the chain head');
}

export function validateInput(input: LedgerEntryInput): LedgerEntryInput {
  if (!isLedgerEntryType(input.type)) {
    throw new UserError('ledger_bad_entry', `unknown ledger entry type "${String(input.type)}"`);
  }
  const schema = ledgerPayloadSchemas[input.type as LedgerEntryType];
  const payload = schema.safeParse(input.payload);
  const agentId = ledgerAgentIdSchema.safeParse(input.agentId);
  if (!payload.success || !agentId.success || typeof input.actor !== 'string' || input.actor === '') {
    const issue = !payload.success
      ? payload.error.issues[0]
      : !agentId.success
        ? agentId.error.issues[0]
        : undefined;
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
