import type { LedgerEntry } from '../core/ledger-entries.js';
import type { GithubStandIn } from '../demo/github-stand-in.js';
import type { SlackStandIn } from '../demo/slack-stand-in.js';
import type { VaultStandIn } from '../demo/vault-stand-in.js';
import { followerPosition } from '../ledger/followers.js';
import type { LedgerSource } from '../ledger/ledger.js';
import { allEntries, backlog, outboxCountsByStatus } from '../ledger/queries/admin.js';
import { verifyLedger } from '../ledger/verify.js';
import { agentRoleName } from '../secrets/tier-policies.js';

export interface InvariantResult {
  name: string;
  ok: boolean;
  count: number;
  detail: string;
}

/** What must hold after any run, however it was broken: each checked from the ledger and the stand-ins. */
/** A grant as an agent saw it: from the reply to the release request (or the TTL's earliest end). */
export interface LockInterval {
  key: string;
  agentId: string;
  start: number;
  end: number;
}

/** What the simulated agents saw the service answer. */
export interface Observed {
  /** Webhook deliveries the service acknowledged with a 2xx. */
  accepted: Set<string>;
  intervals: LockInterval[];
  /** Lifecycle events the service answered, with the ledger sequence it gave. */
  events: { eventId: string; agentId: string; seq: number }[];
  /** Preflight answers, with the ledger entry each named as its record. */
  preflights: { agentId: string; seq: number; decision: string }[];
  /** Vault token accessors each agent was handed. */
  vaultTokens: Map<string, string[]>;
}

export function checkInvariants(
  db: LedgerSource,
  standIns: { github: GithubStandIn; slack?: SlackStandIn; vault?: VaultStandIn },
  observed: Observed,
): InvariantResult[] {
  const { github, vault } = standIns;
  const { accepted, intervals } = observed;
  const rows = allEntries(db);
  const results: InvariantResult[] = [];

  const chain = verifyLedger(db);
  results.push({
    name: 'ledger chain verifies',
    ok: chain.ok,
    count: chain.checked,
    detail: chain.ok ? 'intact' : `first bad sequence ${chain.firstBadSeq}`,
  });

  const deliveries = rows.filter((r) => r.type === 'delivery.received').map((r) => r.payload.deliveryId);
  const unique = new Set(deliveries);
  const missing = [...accepted].filter((id) => !unique.has(id));
  results.push({
    name: 'every accepted delivery has exactly one ledger entry',
    ok: missing.length === 0 && unique.size === deliveries.length,
    count: accepted.size,
    detail: missing.length
      ? `${missing.length} missing`
      : unique.size !== deliveries.length
        ? `${deliveries.length - unique.size} duplicated`
        : 'one each',
  });
  const undone = backlog(db).inbox;
  results.push({
    name: 'every stored delivery was processed',
    ok: undone === 0,
    count: unique.size,
    detail: undone ? `${undone} not done` : 'all done',
  });

  // Each event the service answered is in the ledger where it said, once; a retry or a restart adds none.
  const recorded = new Map<string, number[]>();
  for (const r of rows.filter((x) => x.type === 'integration.event')) {
    const id = r.payload.data.chaosEventId as string | undefined;
    if (id) recorded.set(id, [...(recorded.get(id) ?? []), r.seq]);
  }
  const misplaced = observed.events.filter((e) => {
    const seqs = recorded.get(e.eventId) ?? [];
    return seqs.length !== 1 || seqs[0] !== e.seq;
  });
  const duplicated = [...recorded.values()].filter((seqs) => seqs.length > 1).length;
  results.push({
    name: 'every answered agent event has exactly one ledger entry',
    ok: misplaced.length === 0 && duplicated === 0,
    count: observed.events.length,
    detail: misplaced.length
      ? `${misplaced.length} missing or elsewhere`
      : duplicated
        ? `${duplicated} recorded twice`
        : 'one each',
  });

  // Each preflight answer names the entry that records it: that entry is this agent's, with this answer.
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const unrecorded = observed.preflights.filter((p) => {
    const r = bySeq.get(p.seq);
    return r?.type !== 'preflight.decided' || r.agentId !== p.agentId || r.payload.decision !== p.decision;
  });
  results.push({
    name: 'every preflight answer is the ledger entry it names',
    ok: unrecorded.length === 0,
    count: observed.preflights.length,
    detail: unrecorded.length ? `${unrecorded.length} answered otherwise than recorded` : 'as recorded',
  });

  const revokedAt = new Map<string, number>();
  let passedAfter = 0;
  for (const r of rows) {
    if (r.type === 'agent.status_changed' && r.agentId) {
      const p = r.payload;
      if (p.to === 'revoked' || p.to === 'suspended') revokedAt.set(r.agentId, r.seq);
      else revokedAt.delete(r.agentId);
    }
    const since = r.agentId ? revokedAt.get(r.agentId) : undefined;
    if (since === undefined) continue;
    if (r.type === 'preflight.decided' && r.payload.decision === 'allow') passedAfter++;
    if (r.type === 'decision.recorded' && r.payload.outcome === 'allow') passedAfter++;
  }
  results.push({
    name: 'no revoked or suspended agent passed a gate or preflight',
    ok: passedAfter === 0,
    count: revokedAt.size,
    detail: passedAfter ? `${passedAfter} passed after revocation` : `${revokedAt.size} agent(s) stopped`,
  });

  const applied = new Map<string, number>();
  for (const r of rows.filter((x) => x.type === 'promotion.resolved')) {
    const p = r.payload;
    if (p.outcome === 'applied') applied.set(p.promotionId, (applied.get(p.promotionId) ?? 0) + 1);
  }
  const twice = [...applied.values()].filter((n) => n > 1).length;
  results.push({
    name: 'no promotion applied twice',
    ok: twice === 0,
    count: applied.size,
    detail: twice ? `${twice} applied more than once` : 'once each',
  });

  // Two holders at once, from the agents' own view: each grant counts from its reply until the
  // agent asked to release it, or until the lock's TTL counted from the request (the earliest the
  // store could have let it go). These intervals lie inside the real ones, so an overlap is real.
  const byKey = new Map<string, LockInterval[]>();
  for (const i of intervals) byKey.set(i.key, [...(byKey.get(i.key) ?? []), i]);
  let overlaps = 0;
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.start - b.start);
    let latestEnd = Number.NEGATIVE_INFINITY;
    for (const i of sorted) {
      if (i.start < latestEnd) overlaps++;
      latestEnd = Math.max(latestEnd, i.end);
    }
  }
  results.push({
    name: 'no two holders of one lock at once',
    ok: overlaps === 0,
    count: intervals.length,
    detail: overlaps ? `${overlaps} overlapping grant(s)` : 'one holder at a time',
  });

  // Fencing tokens only grow, even across a Redis restart that lost the counter.
  const lastToken = new Map<string, number>();
  let regressions = 0;
  for (const r of rows.filter((x) => x.type === 'execution.lock')) {
    const p = r.payload;
    if (p.op !== 'acquired' || p.token === null) continue;
    if (p.token <= (lastToken.get(p.lockKey) ?? 0)) regressions++;
    lastToken.set(p.lockKey, Math.max(p.token, lastToken.get(p.lockKey) ?? 0));
  }
  results.push({
    name: 'fencing tokens only grow',
    ok: regressions === 0,
    count: lastToken.size,
    detail: regressions ? `${regressions} token(s) reused or lower` : 'strictly increasing',
  });

  // A revocation is confirmed after recovery, and in Vault nothing of the agent's is left live.
  const requested = rows.filter((r) => r.type === 'revocation.requested').map((r) => r.payload.revocationId);
  const confirmed = new Set(
    rows.filter((r) => r.type === 'revocation.confirmed').map((r) => r.payload.revocationId),
  );
  const unconfirmed = requested.filter((id) => !confirmed.has(id));
  results.push({
    name: 'every revocation confirmed after recovery',
    ok: unconfirmed.length === 0,
    count: requested.length,
    detail: unconfirmed.length ? `${unconfirmed.join(', ')} not confirmed` : 'all confirmed',
  });
  if (vault) {
    const finalStatus = new Map<string, string>();
    for (const r of rows)
      if (r.type === 'agent.status_changed' && r.agentId) finalStatus.set(r.agentId, r.payload.to);
    const revoked = [...finalStatus].filter(([, s]) => s === 'revoked').map(([id]) => id);
    const live = revoked.flatMap((id) => [
      ...(observed.vaultTokens.get(id) ?? [])
        .filter((a) => vault.tokens.has(a))
        .map((a) => `${id} token ${a}`),
      ...[...(vault.secretIds.get(agentRoleName(id)) ?? [])].map((a) => `${id} secret-id ${a}`),
    ]);
    results.push({
      name: 'no revoked agent keeps a Vault token or secret-id',
      ok: live.length === 0,
      count: revoked.length,
      detail: live.length ? live.slice(0, 5).join(', ') : 'none left',
    });
  }

  results.push(consequencesOnce(db, rows, standIns.slack));

  const outbox = outboxCountsByStatus(db);
  const pending = outbox.filter((o) => o.status !== 'delivered').reduce((n, o) => n + o.count, 0);
  const total = outbox.reduce((n, o) => n + o.count, 0);
  // Made twice, as the far ends saw it. A check run created twice on one commit fails the run: a
  // create whose answer was lost is looked up before it is made again. Slack has no such look-up
  // within the bot's scopes, so a card posted twice across a crash (between Slack's answer and the
  // outbox's mark) is reported, not failed: Slack posts are at least once across a crash.
  const created = new Map<string, number>();
  for (const c of github.checkRuns) if (c.created) created.set(c.headSha, (created.get(c.headSha) ?? 0) + 1);
  const checksTwice = [...created].filter(([, n]) => n > 1).map(([sha]) => sha.slice(0, 7));
  const cards = new Map<string, number>();
  for (const key of standIns.slack?.approvalCards() ?? []) cards.set(key, (cards.get(key) ?? 0) + 1);
  const cardsTwice = [...cards.values()].filter((n) => n > 1).length;
  results.push({
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
  });

  const open = [...github.pulls.values()].filter((pr) => github.checkOn(pr.headSha)?.status !== 'completed');
  results.push({
    name: 'every check run reached a final state',
    ok: open.length === 0,
    count: github.pulls.size,
    detail: open.length ? `PR(s) ${open.map((p) => `#${p.number}`).join(', ')} not final` : 'all final',
  });
  return results;
}

/**
 * Every entry with a consequence has it, once, across SIGKILLs: the consequences follower reached
 * the head; each status change to revoked has exactly one revocation request (the admin's, or the
 * one the follower added); no revocation effect is recorded as holding twice; and each revocation
 * was alerted in Slack (a post repeated across a crash between Slack's answer and the outbox's mark
 * is reported, as for cards: Slack has no idempotency key).
 */
function consequencesOnce(
  db: LedgerSource,
  rows: LedgerEntry[],
  slack: SlackStandIn | undefined,
): InvariantResult {
  const head = rows.at(-1)?.seq ?? 0;
  const unfollowed = head - followerPosition(db, 'consequences');
  const lastChange = new Map<string, number>();
  const requests = new Map<number, number>();
  const held = new Map<string, number>();
  let revocations = 0;
  for (const r of rows) {
    if (r.type === 'agent.status_changed' && r.agentId && r.payload.to === 'revoked') {
      revocations++;
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
    if (r.type === 'revocation.effect' && r.payload.ok) {
      const key = `${r.payload.revocationId}:${r.payload.effect}`;
      held.set(key, (held.get(key) ?? 0) + 1);
    }
  }
  const missing = [...requests.values()].filter((n) => n === 0).length;
  const doubled = [...requests.values()].filter((n) => n > 1).length;
  const heldTwice = [...held.values()].filter((n) => n > 1).length;
  const alerts = slack?.calls.filter(
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
    count: revocations,
    detail: problems.length ? problems.join('; ') : `followed to the head, each revocation once${alerted}`,
  };
}
