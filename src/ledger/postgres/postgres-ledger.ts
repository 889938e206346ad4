import type pg from 'pg';
import type { LedgerEntry, LedgerEntryInput } from '../../core/ledger-entries.js';
import { UserError } from '../../platform/errors.js';
import {
  type AsyncAppendOptions,
  type AsyncInbox,
  type AsyncLedger,
  type ChainVerdict,
  type DecideEntries,
  FollowerMovedError,
  type InboxDeliveryInput,
  type LedgerVerdict,
} from '../async-ledger.js';
import { deliveryReceivedEntry } from '../inbox.js';
import { type EntryRow, type LedgerHead, rowToEntry, validateInput } from '../ledger.js';
import type { LedgerReader } from '../ledger-reader.js';
import type { Question } from '../queries/query.js';
import {
  ledgerVerdictOf,
  type TrustedHead,
  type VerifyOptions,
  type VerifyResult,
} from '../verify-verdict.js';
import {
  appendGroups,
  DecisionError,
  FOLLOWER_MOVED,
  type PgAppendGroup,
  type PgGroupResult,
} from './pg-append.js';
import { checkPgChain } from './pg-chain-check.js';
import { PgCheckpoints } from './pg-checkpoints.js';
import { type ConnectOptions, connectPostgres } from './pg-connect.js';
import { PgFollowerPositions } from './pg-followers.js';
import { PgInboxQueue } from './pg-inbox.js';
import { PgOutbox } from './pg-outbox.js';
import { pgReader } from './pg-reader.js';
import { PgReplicas } from './pg-replicas.js';
import { verifyPgLedger } from './pg-verify.js';

interface Pending {
  group: PgAppendGroup;
  resolve: (entries: PgGroupResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Opens the PostgreSQL ledger at `url` (migrated to the current schema); `mustExist`: only a
 * database that holds a ledger already (read-only commands); `readOnly`: connections that cannot
 * write (see `ConnectOptions`).
 */
export async function openPostgresLedger(
  url: string,
  now: () => Date = () => new Date(),
  poolSize = 5,
  options: ConnectOptions = {},
): Promise<PostgresLedger> {
  const { pool, where } = await connectPostgres(url, poolSize, options);
  return new PostgresLedger(pool, where, now);
}

/**
 * The hash-chained ledger on PostgreSQL, for several replicas sharing one database. Appends
 * requested in the same turn of the event loop share one transaction (group commit); every
 * transaction takes the head row first, so writers on every replica form one chain.
 */
export class PostgresLedger implements AsyncLedger {
  readonly engine = 'postgres';
  readonly outbox: PgOutbox;
  readonly followers: PgFollowerPositions;
  readonly inbox: AsyncInbox;
  readonly checkpoints: PgCheckpoints;
  readonly replicas: PgReplicas;
  readonly reader: LedgerReader;
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly pool: pg.Pool,
    /** Where the database is, without its password. */
    readonly where: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.reader = pgReader(pool);
    this.outbox = new PgOutbox(pool, now);
    this.followers = new PgFollowerPositions(pool, this);
    this.inbox = {
      record: (delivery) => this.recordDelivery(delivery),
      queue: (claimer, leaseMs) => new PgInboxQueue(pool, claimer, leaseMs, now),
    };
    this.checkpoints = new PgCheckpoints(pool);
    this.replicas = new PgReplicas(pool);
  }

  async appendAll(
    inputs: readonly LedgerEntryInput[],
    options: AsyncAppendOptions = {},
  ): Promise<LedgerEntry[]> {
    const group = {
      inputs: inputs.map(validateInput),
      outbox: options.outbox ?? [],
      delivered: options.delivered ?? [],
    };
    return (await this.enqueue(group)) as LedgerEntry[];
  }

  async appendDecided(decide: DecideEntries, options: AsyncAppendOptions = {}): Promise<LedgerEntry[]> {
    const delivered = options.delivered ?? [];
    const { follower } = options;
    const group = {
      inputs: [],
      outbox: options.outbox ?? [],
      decide,
      delivered,
      ...(follower ? { follower } : {}),
    };
    const result = await this.enqueue(group);
    if (result === FOLLOWER_MOVED) throw new FollowerMovedError(follower!.name);
    return result as LedgerEntry[];
  }

  /** A decision like any other here: the question is read inside the transaction that appends. */
  appendAnswered<R>(
    question: Question<R>,
    decide: (answer: R) => readonly LedgerEntryInput[],
    options: Pick<AsyncAppendOptions, 'outbox'> = {},
  ): Promise<LedgerEntry[]> {
    return this.appendDecided(async (view) => decide(await question.read(view.reader)), options);
  }

  async append(input: LedgerEntryInput, options: AsyncAppendOptions = {}): Promise<LedgerEntry> {
    return (await this.appendAll([input], options))[0]!;
  }

  /**
   * This ledger's own identity (migration 11), the same by whatever URL it is reached: what
   * replicas compare to know they serve one ledger.
   */
  async identity(): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM ledger_identity');
    if (!rows[0]) throw new UserError('ledger_broken', `the ledger at ${this.where} has no identity row`);
    return rows[0].id;
  }

  async head(): Promise<LedgerHead> {
    const { rows } = await this.pool.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM ledger_head WHERE id = 1',
    );
    const head = rows[0];
    // Migrations create the row: a database without it was changed by hand, not by this build.
    if (!head)
      throw new UserError(
        'ledger_broken',
        `the ledger at ${this.where} has no head row (ledger_head): it was not made, or was changed, outside agov`,
      );
    return { seq: Number(head.seq), hash: head.hash };
  }

  async entriesAfter(afterSeq: number, limit = 1000): Promise<LedgerEntry[]> {
    const { rows } = await this.pool.query<EntryRow & { seq: string }>(
      'SELECT * FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
      [afterSeq, limit],
    );
    return rows.map((row) => rowToEntry({ ...row, seq: Number(row.seq) }));
  }

  async verifyChain(): Promise<ChainVerdict> {
    return this.withClient(checkPgChain);
  }

  async verify(): Promise<LedgerVerdict> {
    return ledgerVerdictOf(await this.verifyLedger());
  }

  /**
   * What `agov ledger verify` checks, as on SQLite (`verifyLedger`): the chain, the pinned key,
   * every checkpoint, every projection table, and the heads the caller trusts.
   */
  async verifyLedger(
    trustedHeads: readonly TrustedHead[] = [],
    options: VerifyOptions = {},
  ): Promise<VerifyResult> {
    return this.withClient((client) => verifyPgLedger(client, trustedHeads, options));
  }

  /** Runs `fn` on one connection of the pool, released afterwards. */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async recordDelivery(delivery: InboxDeliveryInput): Promise<LedgerEntry | null> {
    const input = validateInput(deliveryReceivedEntry(delivery));
    return this.enqueue({ inputs: [input], outbox: delivery.outbox ?? [], delivery }).then((r) =>
      Array.isArray(r) ? (r[0] ?? null) : null,
    );
  }

  private enqueue(group: PgAppendGroup): Promise<PgGroupResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ group, resolve, reject });
      if (this.pending.length === 1 && !this.flushing) setImmediate(() => void this.flush());
    });
  }

  /** Commits everything queued, one transaction at a time; then whatever queued meanwhile. */
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      await this.commit(batch);
    }
    this.flushing = false;
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const results = await this.withClient((client) =>
        appendGroups(
          client,
          batch.map((p) => p.group),
          this.now(),
        ),
      );
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
    } catch (error) {
      if (batch.length === 1 || !isRefusal(error)) {
        for (const p of batch) p.reject(error instanceof DecisionError ? error.original : error);
        return;
      }
      // One group that the database refuses must not take the others down: each alone.
      for (const p of batch) await this.commit([p]);
    }
  }
}

/**
 * An error the database answered with (a SQLSTATE), or a decision that threw: either rolled the
 * transaction back for sure. A
 * lost connection (no SQLSTATE, or class 08 / 57) may have lost a COMMIT that took effect: its
 * groups are not tried again, or their entries could be appended twice.
 */
function isRefusal(error: unknown): boolean {
  if (error instanceof DecisionError) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57)/.test(code);
}
