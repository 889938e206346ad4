/**
 * Realistic entries of every type the projections write for (and two that write nothing more), in
 * an order an agent can live through: the projection tests of each engine and the contract suite
 * append these.
 */
import type { LedgerEntryInput, LedgerEntryType, LedgerPayload } from '../../src/core/ledger-entries.js';

export const AGENT = 'docs-bot';

function entryOf(agent: string) {
  return <T extends LedgerEntryType>(input: {
    type: T;
    payload: LedgerPayload<T>;
    agentId?: string | null;
  }): LedgerEntryInput => ({ agentId: agent, actor: 'alice', ...input }) as LedgerEntryInput;
}

/** One entry of every type the projections write for, for `agent`, in an order it can live through. */
export function projectionHistory(agent: string = AGENT): LedgerEntryInput[] {
  const entry = entryOf(agent);
  const decision = (agentId: string | null, number: number) =>
    entry({
      type: 'decision.recorded',
      agentId,
      payload: {
        repository: 'acme/web',
        number,
        headSha: 'abc',
        outcome: 'require_approval',
        summary: 's',
        tier: null,
        policyVersion: null,
        diffHash: null,
        trigger: 'test',
        rules: [],
      },
    });
  return [
    entry({
      type: 'agent.registered',
      payload: {
        name: agent,
        owner: 'alice',
        tier: 'T1',
        identities: { githubLogins: [], trailers: [] },
        tokenHash: 'h1',
      },
    }),
    entry({ type: 'agent.token_rotated', payload: { tokenHash: 'h2' } }),
    decision(agent, 1),
    decision(null, 2),
    entry({
      type: 'approval.recorded',
      agentId: null,
      payload: {
        repository: 'acme/web',
        number: 1,
        approver: 'bob',
        verdict: 'approve',
        gate: 'security',
        headSha: 'abc',
        diffHash: 'd',
        policyVersion: 'p',
        source: 'slack',
      },
    }),
    entry({ type: 'pr.merged', payload: { repository: 'acme/web', number: 1, headSha: 'abc', tier: 'T1' } }),
    entry({
      type: 'violation.recorded',
      payload: {
        violation: 'diff_size_exceeded',
        severity: 'low',
        consequence: 'charge_budget',
        budgetCharge: 1,
        details: 'big',
        source: 'github',
      },
    }),
    entry({
      type: 'promotion.requested',
      payload: {
        promotionId: 'p1',
        kind: 'promotion',
        from: 'T1',
        to: 'T2',
        required: 1,
        council: false,
        reason: 'ready',
      },
    }),
    entry({
      type: 'promotion.voted',
      payload: { promotionId: 'p1', approver: 'bob', verdict: 'approve', reason: 'ok' },
    }),
    entry({
      type: 'promotion.voted',
      payload: { promotionId: 'p1', approver: 'carol', verdict: 'reject', reason: 'no' },
    }),
    entry({
      type: 'promotion.resolved',
      payload: { promotionId: 'p1', outcome: 'rejected', detail: 'vetoed' },
    }),
    entry({ type: 'promotion.resolved', payload: { promotionId: 'p0', outcome: 'applied', detail: 'done' } }),
    entry({
      type: 'agent.tier_changed',
      payload: { from: 'T1', to: 'T2', reason: 'promoted', kind: 'promotion' },
    }),
    entry({
      type: 'revocation.requested',
      payload: { revocationId: 'r1', reason: 'leak', effects: ['vault'] },
    }),
    entry({ type: 'agent.status_changed', payload: { from: 'active', to: 'revoked', reason: 'leak' } }),
    entry({
      type: 'revocation.effect',
      payload: { revocationId: 'r1', effect: 'vault', ok: true, detail: 'destroyed' },
    }),
    entry({
      type: 'revocation.effect',
      payload: { revocationId: 'r1', effect: 'slack', ok: false, detail: 'timeout' },
    }),
    entry({ type: 'revocation.confirmed', payload: { revocationId: 'r1' } }),
    entry({
      type: 'violation.recorded',
      payload: {
        violation: 'secret_exposure',
        severity: 'critical',
        consequence: 'revoke',
        budgetCharge: 0,
        details: 'key',
        source: 'github',
      },
    }),
    entry({ type: 'agent.status_changed', payload: { from: 'revoked', to: 'active', reason: 'cleared' } }),
    entry({ type: 'agent.status_changed', payload: { from: 'active', to: 'suspended', reason: 'pause' } }),
    // No projection beyond the action row; an agent-keyed type with no agent writes nothing at all.
    entry({
      type: 'preflight.decided',
      payload: { action: 'open_pr', repository: 'acme/web', decision: 'allow', reasons: [] },
    }),
    entry({
      type: 'promotion.voted',
      agentId: null,
      payload: { promotionId: 'p9', approver: 'bob', verdict: 'approve', reason: 'orphan' },
    }),
  ];
}
