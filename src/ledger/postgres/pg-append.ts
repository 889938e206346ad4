import type pg from 'pg';
import type { LedgerEntry, LedgerEntryInput } from '../../core/ledger-entries.js';
import {
  checkFollowUps,
  type DecideEntries,
  decidedParts,
  type FollowerMove,
  type FollowUp,
  followerTarget,
  type InboxDeliveryInput,
  type LedgerView,
} from '../async-ledger.js';
import { type EntryRow, type LedgerHead, rowToEntry, validateInput } from '../ledger.js';
import { linkEntry } from '../link-entry.js';
import type { OutboxMessageInput } from '../outbox.js';
import { projectEntry } from '../projections.js';
import { runPgProjectionWrites } from './pg-projection-writes.js';
import { pgReader } from './pg-reader.js';

/** One atomic unit of a group commit: entries, the outbox messages they cause, maybe a delivery. */
export interface PgAppendGroup {
  inputs: readonly LedgerEntryInput[];
  outbox: readonly OutboxMessageInput[];
  /** An inbox delivery recorded with the entries: the group writes nothing if its id was seen. */
  delivery?: InboxDeliveryInput;
  /** Entries decided inside the transaction, from the ledger at the head they extend (after `inputs`). */
  decide?: DecideEntries;
  /** Outbox messages marked delivered in the same transaction (see `AsyncAppendOptions.delivered`). */
  delivered?: readonly number[];
  /** A follower moved with the decided entries (see `AsyncAppendOptions.follower`). */
  follower?: FollowerMove;
}

/** A group's result when its follower had moved: the group wrote nothing. */
export const FOLLOWER_MOVED = Symbol('follower moved');

export type PgGroupResult = LedgerEntry[] | null | typeof FOLLOWER_MOVED;

/** A decision that threw: the transaction is rolled back, and the groups sharing it are tried alone. */
export class DecisionError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.name = 'DecisionError';
  }
}

/** What the transaction has linked and not yet written, and the head it reached. */
class Staging {
  entries: { entry: LedgerEntry; payloadText: string }[] = [];
  outbox: { seq: number; message: OutboxMessageInput }[] = [];
  delivered: number[] = [];

  constructor(
    public head: LedgerHead,
    private readonly ts: string,
  ) {}

  link(inputs: readonly LedgerEntryInput[]): LedgerEntry[] {
    return inputs.map((input) => {
      const next = linkEntry(input, this.head, this.ts);
      this.head = { seq: next.entry.seq, hash: next.entry.hash };
      this.entries.push(next);
      return next.entry;
    });
  }

  /** Writes what is staged, entries with their projections, so that reads in the same transaction see it. */
  async write(client: pg.ClientBase, now: Date): Promise<void> {
    await insertEntries(client, this.entries);
    await runPgProjectionWrites(
      client,
      this.entries.flatMap(({ entry }) => projectEntry(entry)),
    );
    await insertOutbox(client, this.outbox, now);
    if (this.delivered.length > 0)
      await client.query(
        `UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, last_error = NULL,
           claimed_by = NULL, lease_until = NULL
         WHERE id = ANY($2::bigint[]) AND status = 'pending'`,
        [now, this.delivered],
      );
    this.entries = [];
    this.outbox = [];
    this.delivered = [];
  }
}

/**
 * Appends the groups in one transaction: takes the head row FOR UPDATE (every appender, on every
 * replica, waits here, so the chain never forks), links each group's entries to the head, and
 * writes entries, outbox messages and inbox rows before one COMMIT. A group whose delivery id is
 * already in the inbox resolves null and writes nothing.
 */
export async function appendGroups(
  client: pg.ClientBase,
  groups: readonly PgAppendGroup[],
  now: Date,
): Promise<PgGroupResult[]> {
  await client.query('BEGIN');
  try {
    const locked = await client.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE',
    );
    const staging = new Staging(
      { seq: Number(locked.rows[0]!.seq), hash: locked.rows[0]!.hash },
      now.toISOString(),
    );
    const results: PgGroupResult[] = [];
    for (const group of groups) results.push(await stageGroup(client, staging, group, now));
    await staging.write(client, now);
    await client.query('COMMIT');
    return results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function stageGroup(
  client: pg.ClientBase,
  staging: Staging,
  group: PgAppendGroup,
  now: Date,
): Promise<PgGroupResult> {
  if (group.delivery && !(await recordDelivery(client, group.delivery, staging.head.seq + 1, now)))
    return null;
  // Before anything of the group is staged: a follower moved by another replica writes nothing.
  if (group.follower && !(await holdFollower(client, group.follower))) return FOLLOWER_MOVED;
  const entries = staging.link(group.inputs);
  const outbox = [...group.outbox];
  let followUps: readonly FollowUp[] = [];
  if (group.decide) {
    await staging.write(client, now);
    const decided = await decideInTransaction(client, group.decide, staging.head);
    if (group.follower) {
      const to = decidedFollowerTarget(group.follower, decided.followedTo, staging.head);
      await client.query('UPDATE follower_positions SET seq = $2 WHERE name = $1', [group.follower.name, to]);
    }
    entries.push(...staging.link(decided.entries));
    outbox.push(...decided.outbox);
    followUps = decided.followUps;
  }
  const last = entries.at(-1);
  if (last) staging.outbox.push(...outbox.map((message) => ({ seq: last.seq, message })));
  staging.outbox.push(...followUps);
  staging.delivered.push(...(group.delivered ?? []));
  return entries;
}

/**
 * Takes the follower's position row for this transaction (created at 0 when it has none) and says
 * whether it still is where the step read it. Appenders hold the head row already, so two
 * replicas' steps wait here in turn; an `advance` from outside waits for this row.
 */
async function holdFollower(client: pg.ClientBase, follower: FollowerMove): Promise<boolean> {
  const { rows } = await client.query<{ seq: string }>(
    `INSERT INTO follower_positions (name, seq) VALUES ($1, 0)
     ON CONFLICT (name) DO UPDATE SET seq = follower_positions.seq RETURNING seq`,
    [follower.name],
  );
  return Number(rows[0]!.seq) === follower.from;
}

/** `followerTarget`, as a refusal of the decision (the groups beside it are tried alone). */
function decidedFollowerTarget(
  follower: FollowerMove,
  followedTo: number | undefined,
  head: LedgerHead,
): number {
  try {
    return followerTarget(follower, followedTo, head);
  } catch (error) {
    throw new DecisionError(error);
  }
}

async function decideInTransaction(
  client: pg.ClientBase,
  decide: DecideEntries,
  head: LedgerHead,
): Promise<{
  entries: LedgerEntryInput[];
  outbox: readonly OutboxMessageInput[];
  followUps: readonly FollowUp[];
  followedTo?: number;
}> {
  const view: LedgerView = {
    head,
    reader: pgReader(client),
    entriesAfter: async (afterSeq, limit = 1000) => {
      const { rows } = await client.query<EntryRow & { seq: string }>(
        'SELECT * FROM ledger_entries WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
        [afterSeq, head.seq, limit],
      );
      return rows.map((row) => rowToEntry({ ...row, seq: Number(row.seq) }));
    },
  };
  try {
    const decided = decidedParts(await decide(view));
    checkFollowUps(decided.followUps, head);
    return {
      entries: decided.entries.map(validateInput),
      outbox: decided.outbox,
      followUps: decided.followUps,
      ...(decided.followedTo === undefined ? {} : { followedTo: decided.followedTo }),
    };
  } catch (error) {
    throw new DecisionError(error);
  }
}

async function recordDelivery(
  client: pg.ClientBase,
  delivery: InboxDeliveryInput,
  seq: number,
  now: Date,
): Promise<boolean> {
  const inserted = await client.query(
    `INSERT INTO inbox (delivery_id, source, event, payload, seq, next_attempt_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (delivery_id) DO NOTHING`,
    [delivery.deliveryId, delivery.source, delivery.event, delivery.payloadText, seq, now],
  );
  return inserted.rowCount === 1;
}

/** Rows in chain order, in one statement (the chain trigger checks each link as it goes). */
export async function insertEntryRows(
  client: pg.ClientBase,
  rows: readonly (readonly [number, string, string, string | null, string, string, string, string])[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Array.from({ length: 8 }, (_, i) => rows.map((row) => row[i]));
  await client.query(
    `INSERT INTO ledger_entries (seq, ts, type, agent_id, actor, payload, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
     ORDER BY 1`,
    columns,
  );
}

function insertEntries(
  client: pg.ClientBase,
  staged: readonly { entry: LedgerEntry; payloadText: string }[],
): Promise<void> {
  return insertEntryRows(
    client,
    staged.map(({ entry, payloadText }) => [
      entry.seq,
      entry.ts,
      entry.type,
      entry.agentId,
      entry.actor,
      payloadText,
      entry.prevHash,
      entry.hash,
    ]),
  );
}

/** Outbox messages with their cause, in order, in one statement; a key queued before is skipped. */
export async function insertOutbox(
  client: pg.ClientBase,
  staged: readonly { seq: number; message: OutboxMessageInput }[],
  now: Date,
): Promise<void> {
  if (staged.length === 0) return;
  const at = now.toISOString();
  await client.query(
    `INSERT INTO outbox (seq, target, kind, idempotency_key, ordering_key, payload, next_attempt_at, created_at)
     SELECT s, t, k, i, o, p, n, $8::timestamptz
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
       WITH ORDINALITY AS m(s, t, k, i, o, p, n, ord)
     ORDER BY ord
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      staged.map((s) => s.seq),
      staged.map((s) => s.message.target),
      staged.map((s) => s.message.kind),
      staged.map((s) => s.message.idempotencyKey),
      staged.map((s) => s.message.orderingKey),
      staged.map((s) => JSON.stringify(s.message.payload)),
      staged.map((s) => s.message.notBefore?.toISOString() ?? at),
      at,
    ],
  );
}
