import type pg from 'pg';
import type { LedgerEntry, LedgerEntryInput } from '../../core/ledger-entries.js';
import type { InboxDeliveryInput } from '../async-ledger.js';
import type { LedgerHead } from '../ledger.js';
import { linkEntry } from '../link-entry.js';
import type { OutboxMessageInput } from '../outbox.js';

/** One atomic unit of a group commit: entries, the outbox messages they cause, maybe a delivery. */
export interface PgAppendGroup {
  inputs: readonly LedgerEntryInput[];
  outbox: readonly OutboxMessageInput[];
  /** An inbox delivery recorded with the entries: the group writes nothing if its id was seen. */
  delivery?: InboxDeliveryInput;
}

interface Staged {
  entries: { entry: LedgerEntry; payloadText: string }[];
  outbox: { seq: number; message: OutboxMessageInput }[];
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
): Promise<(LedgerEntry[] | null)[]> {
  await client.query('BEGIN');
  try {
    const locked = await client.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE',
    );
    let head: LedgerHead = { seq: Number(locked.rows[0]!.seq), hash: locked.rows[0]!.hash };
    const staged: Staged = { entries: [], outbox: [] };
    const results: (LedgerEntry[] | null)[] = [];
    for (const group of groups) {
      if (group.delivery && !(await recordDelivery(client, group.delivery, head.seq + 1, now))) {
        results.push(null);
        continue;
      }
      const linked = group.inputs.map((input) => {
        const next = linkEntry(input, head, now.toISOString());
        head = { seq: next.entry.seq, hash: next.entry.hash };
        return next;
      });
      staged.entries.push(...linked);
      const last = linked.at(-1);
      if (last) staged.outbox.push(...group.outbox.map((message) => ({ seq: last.entry.seq, message })));
      results.push(linked.map((l) => l.entry));
    }
    await insertEntries(client, staged.entries);
    await insertOutbox(client, staged.outbox, now);
    await client.query('COMMIT');
    return results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
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

function insertEntries(client: pg.ClientBase, staged: Staged['entries']): Promise<void> {
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
