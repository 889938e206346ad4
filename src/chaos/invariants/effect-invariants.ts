import type { LedgerEntry } from '../../core/ledger-entries.js';
import type { InvariantInput, InvariantResult } from './invariant.js';

/** For each status change to revoked (by seq): how many revocation requests it has before the next change. */
function revocationRequests(rows: LedgerEntry[]): Map<number, number> {
  const lastChange = new Map<string, number>();
  const requests = new Map<number, number>();
  for (const r of rows) {
    if (r.type === 'agent.status_changed' && r.agentId && r.payload.to === 'revoked') {
      const since = lastChange.get(r.agentId) ?? 0;
      const n = rows
        .filter((x) => x.type === 'revocation.requested' && x.agentId === r.agentId && x.seq > since)
        .filter((x) => {
          const next = rows.find(
            (y) => y.type === 'agent.status_changed' && y.agentId === r.agentId && y.seq > r.seq,
          );
          return x.seq < (next?.seq ?? Number.POSITIVE_INFINITY);
        }).length;
      requests.set(r.seq, n);
    }
    if (r.type === 'agent.status_changed' && r.agentId) lastChange.set(r.agentId, r.seq);
  }
  return requests;
}

/** Revocation effects recorded as holding more than once. */
function effectsHeldTwice(rows: LedgerEntry[]): number {
  const held = new Map<string, number>();
  for (const r of rows) {
    if (r.type === 'revocation.effect' && r.payload.ok) {
      const key = `${r.payload.revocationId}:${r.payload.effect}`;
      held.set(key, (held.get(key) ?? 0) + 1);
    }
  }
  return [...held.values()].filter((n) => n > 1).length;
}

/**
 * Every entry with a consequence has it, once, across SIGKILLs: the consequences follower reached
 * the head; each status change to revoked has exactly one revocation request (the admin's, or the
 * one the follower added); no revocation effect is recorded as holding twice; and each revocation
 * was alerted in Slack (a post repeated across a crash between Slack's answer and the outbox's mark
 * is reported, as for cards: Slack has no idempotency key).
 */
export function consequencesOnce({ facts, rows, standIns }: InvariantInput): InvariantResult {
  const head = rows.at(-1)?.seq ?? 0;
  const unfollowed = head - facts.consequencesAt;
  const requests = revocationRequests(rows);
  const missing = [...requests.values()].filter((n) => n === 0).length;
  const doubled = [...requests.values()].filter((n) => n > 1).length;
  const heldTwice = effectsHeldTwice(rows);
  const alerts = standIns.slack?.calls.filter(
    (c) => c.method === 'chat.postMessage' && /was revoked/.test(c.args.text ?? ''),
  );
  const problems = [
    unfollowed > 0 ? `${unfollowed} entries not followed` : '',
    missing ? `${missing} revocation(s) never completed` : '',
    doubled ? `${doubled} revocation(s) requested twice` : '',
    heldTwice ? `${heldTwice} effect(s) recorded twice` : '',
  ].filter(Boolean);
  const alerted = alerts ? `; ${alerts.length} revocation alert(s) posted` : '';
  return {
    name: 'every entry with a consequence has it once',
    ok: problems.length === 0,
    count: requests.size,
    detail: problems.length ? problems.join('; ') : `followed to the head, each revocation once${alerted}`,
  };
}

/**
 * Made twice, as the far ends saw it. A check run created twice on one commit fails the run: a
 * create whose answer was lost is looked up before it is made again. Slack has no such look-up
 * within the bot's scopes, so a card posted twice across a crash (between Slack's answer and the
 * outbox's mark) is reported, not failed: Slack posts are at least once across a crash.
 */
export function outboxOnce({ facts, standIns }: InvariantInput): InvariantResult {
  const outbox = facts.outboxByStatus;
  const pending = outbox.filter((o) => o.status !== 'delivered').reduce((n, o) => n + o.count, 0);
  const total = outbox.reduce((n, o) => n + o.count, 0);
  const created = new Map<string, number>();
  for (const c of standIns.github.checkRuns)
    if (c.created) created.set(c.headSha, (created.get(c.headSha) ?? 0) + 1);
  const checksTwice = [...created].filter(([, n]) => n > 1).map(([sha]) => sha.slice(0, 7));
  const cards = new Map<string, number>();
  for (const key of standIns.slack?.approvalCards() ?? []) cards.set(key, (cards.get(key) ?? 0) + 1);
  const cardsTwice = [...cards.values()].filter((n) => n > 1).length;
  return {
    name: 'every outbox call delivered once after recovery',
    ok: pending === 0 && checksTwice.length === 0,
    count: total,
    detail: pending
      ? `${pending} not delivered`
      : checksTwice.length
        ? `check run created twice on ${checksTwice.slice(0, 3).join(', ')}`
        : cardsTwice
          ? `all delivered; ${cardsTwice} Slack card(s) posted twice across a crash`
          : 'all delivered, once',
  };
}

export function checksFinal({ standIns }: InvariantInput): InvariantResult {
  const { github } = standIns;
  const open = [...github.pulls.values()].filter((pr) => github.checkOn(pr.headSha)?.status !== 'completed');
  return {
    name: 'every check run reached a final state',
    ok: open.length === 0,
    count: github.pulls.size,
    detail: open.length ? `PR(s) ${open.map((p) => `#${p.number}`).join(', ')} not final` : 'all final',
  };
}
