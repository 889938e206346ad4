import type { InvariantInput, InvariantResult } from './invariant.js';

/** One chain, whichever replica wrote each entry, and every projection rebuilt from it agrees. */
export function chainVerifies({ facts }: InvariantInput): InvariantResult {
  const chain = facts.verdict;
  return {
    name: 'ledger chain verifies',
    ok: chain.ok,
    count: chain.checked,
    detail: chain.ok ? 'intact' : `first bad sequence ${chain.firstBadSeq}: ${chain.reason}`,
  };
}

function storedDeliveries(input: InvariantInput): string[] {
  return input.rows.filter((r) => r.type === 'delivery.received').map((r) => r.payload.deliveryId);
}

export function deliveriesOnce(input: InvariantInput): InvariantResult {
  const { accepted } = input.observed;
  const deliveries = storedDeliveries(input);
  const unique = new Set(deliveries);
  const missing = [...accepted].filter((id) => !unique.has(id));
  return {
    name: 'every accepted delivery has exactly one ledger entry',
    ok: missing.length === 0 && unique.size === deliveries.length,
    count: accepted.size,
    detail: missing.length
      ? `${missing.length} missing`
      : unique.size !== deliveries.length
        ? `${deliveries.length - unique.size} duplicated`
        : 'one each',
  };
}

export function deliveriesProcessed(input: InvariantInput): InvariantResult {
  const undone = input.facts.backlog.inbox;
  return {
    name: 'every stored delivery was processed',
    ok: undone === 0,
    count: new Set(storedDeliveries(input)).size,
    detail: undone ? `${undone} not done` : 'all done',
  };
}

/** Each event the service answered is in the ledger where it said, once; a retry or a restart adds none. */
export function eventsOnce({ rows, observed }: InvariantInput): InvariantResult {
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
  return {
    name: 'every answered agent event has exactly one ledger entry',
    ok: misplaced.length === 0 && duplicated === 0,
    count: observed.events.length,
    detail: misplaced.length
      ? `${misplaced.length} missing or elsewhere`
      : duplicated
        ? `${duplicated} recorded twice`
        : 'one each',
  };
}

/** Each preflight answer names the entry that records it: that entry is this agent's, with this answer. */
export function preflightsRecorded({ rows, observed }: InvariantInput): InvariantResult {
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const unrecorded = observed.preflights.filter((p) => {
    const r = bySeq.get(p.seq);
    return r?.type !== 'preflight.decided' || r.agentId !== p.agentId || r.payload.decision !== p.decision;
  });
  return {
    name: 'every preflight answer is the ledger entry it names',
    ok: unrecorded.length === 0,
    count: observed.preflights.length,
    detail: unrecorded.length ? `${unrecorded.length} answered otherwise than recorded` : 'as recorded',
  };
}

/**
 * Every accepted pull-request delivery led to a decision, and no decision was recorded twice: two
 * replicas (or a replica and its restart, or a sweep and a delivery) that decide the same commit
 * with the same inputs record one answer. A later answer on new inputs (a vote, a revocation) is
 * a new decision, not a repeat.
 */
export function decidedOnce({ rows, observed }: InvariantInput): InvariantResult {
  const last = new Map<string, string>();
  const decided = new Set<number>();
  let repeated = 0;
  for (const r of rows) {
    if (r.type !== 'decision.recorded') continue;
    const p = r.payload;
    decided.add(p.number);
    const commit = `${p.repository}#${p.number}@${p.headSha}`;
    const answer = `${p.outcome}\n${p.inputs ?? p.summary}`;
    if (last.get(commit) === answer) repeated++;
    last.set(commit, answer);
  }
  const prs = [...observed.accepted].map((id) => Number(id.slice(id.lastIndexOf('-') + 1)));
  const undecided = prs.filter((n) => !decided.has(n));
  return {
    name: 'every delivered pull request decided, each answer recorded once',
    ok: undecided.length === 0 && repeated === 0,
    count: prs.length,
    detail: undecided.length
      ? `PR(s) ${undecided
          .slice(0, 5)
          .map((n) => `#${n}`)
          .join(', ')} never decided`
      : repeated
        ? `${repeated} decision(s) recorded twice with the same inputs`
        : 'each once',
  };
}
