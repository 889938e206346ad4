import type { LedgerEntryInput, LedgerEntryType, LedgerPayload } from '../../src/core/ledger-entries.js';
import type { AsyncLedger } from '../../src/ledger/async-ledger.js';
import { agentsAsync } from '../../src/ledger/queries/agents.js';
import { approvalsAsync } from '../../src/ledger/queries/approvals.js';
import { checkRunsAsync } from '../../src/ledger/queries/check-runs.js';

/**
 * A hostile history for the queries, appended the same way to each engine: repositories named with
 * quotes, `?`, `%`, `_`, non-ASCII letters, 5,000 characters, or differing only in case; a PR
 * title holding NUL; a PR pushed after its first decision.
 */
export const SHA = { a: 'a'.repeat(40), b: 'b'.repeat(40), c: 'c'.repeat(40), g: 'f'.repeat(40) };
export const REPO = {
  web: 'acme/web',
  webUpper: 'Acme/Web',
  quoted: "o'brien/it's?",
  wild: '100%_sure/x_y',
  unicode: 'ünï/cødé',
  unicodeUpper: 'ÜNÏ/cødé',
  long: `long/${'x?%_'.repeat(1250)}`,
};

const registered = (id: string, owner: string | null): LedgerEntryInput => ({
  type: 'agent.registered',
  agentId: id,
  actor: 'alice',
  payload: {
    name: id,
    owner,
    tier: 'T1',
    identities: { githubLogins: [], trailers: [] },
    tokenHash: `h-${id}`,
  },
});

const requested = (
  promotionId: string,
  from: 'T1' | 'T2',
  to: 'T2' | 'T3',
  required: number,
): LedgerEntryInput => ({
  type: 'promotion.requested',
  agentId: 'docs-bot',
  actor: 'alice',
  payload: { promotionId, kind: 'promotion', from, to, required, council: required > 1, reason: `to ${to}` },
});

/** An entry of `type` as the ledger is handed it. */
const at = <T extends LedgerEntryType>(
  type: T,
  agentId: string | null,
  actor: string,
  payload: LedgerPayload<T>,
): LedgerEntryInput => ({ type, agentId, actor, payload }) as LedgerEntryInput;

type DecisionPayload = Extract<LedgerEntryInput, { type: 'decision.recorded' }>['payload'];

const decision = (
  agentId: string | null,
  repository: string,
  number: number,
  headSha: string,
  more: Partial<DecisionPayload> = {},
): LedgerEntryInput => ({
  type: 'decision.recorded',
  agentId,
  actor: 'github',
  payload: {
    repository,
    number,
    headSha,
    outcome: 'allow',
    summary: `decided ${repository}#${number}`,
    tier: 'T1',
    policyVersion: 'p1',
    diffHash: 'd1',
    trigger: 'pull_request.synchronize',
    rules: [],
    installationId: 42,
    ...more,
  },
});

const FILES = [{ path: "docs/it's?.md", previousPath: null, status: 'added', additions: 3, deletions: 0 }];

const button = (accepted: boolean, deliverySeq: number, sender: string): LedgerEntryInput => ({
  type: 'check_run.button',
  agentId: 'docs-bot',
  actor: sender,
  payload: {
    repository: REPO.web,
    number: 7,
    headSha: SHA.b,
    sender,
    identifier: 'ask',
    button: 'ask_approvers',
    accepted,
    outcome: 'asked',
    deliverySeq,
  },
});

/** Groups of entries, each appended at its own minute. */
export const HISTORY: LedgerEntryInput[][] = [
  [registered('docs-bot', 'alice'), registered('test-bot', null), registered('infra-bot', "o'neil")],
  [
    decision('docs-bot', REPO.web, 7, SHA.a, {
      outcome: 'require_approval',
      summary: 'needs a human',
      attribution: { strength: 'claimed', via: 'trailer', author: 'docs-bot' },
      inputs: 'i1',
      files: FILES,
    }),
    decision('test-bot', REPO.webUpper, 7, SHA.a, { outcome: 'deny' }),
  ],
  [
    at('approval.recorded', 'docs-bot', 'alice', {
      repository: REPO.web,
      number: 7,
      approver: 'alice',
      verdict: 'approve',
      gate: 'review',
      headSha: SHA.a,
      diffHash: 'd1',
      policyVersion: 'p1',
      source: 'slack',
    }),
    decision('docs-bot', REPO.web, 7, SHA.b, { summary: 'after the push' }),
    decision('docs-bot', REPO.web, 8, SHA.b, {
      outcome: 'require_approval',
      summary: 'same head',
      title: 'nul \u0000 and ünïcode, not \\u0000',
    }),
  ],
  [
    decision('test-bot', REPO.quoted, 1, SHA.c, { outcome: 'require_approval', title: "it's a '?'" }),
    decision('test-bot', REPO.wild, 2, SHA.c, { outcome: 'pending' }),
    decision('infra-bot', REPO.unicode, 3, SHA.c, { outcome: 'require_approval' }),
    decision(null, REPO.long, 2147483647, SHA.c),
  ],
  [button(false, 5, 'mallory'), button(true, 6, 'bob'), button(true, 7, "o'hara")],
  [
    at('pr.merged', 'docs-bot', 'github', {
      repository: REPO.web,
      number: 7,
      headSha: SHA.b,
      mergeCommitSha: 'm'.repeat(40),
      tier: 'T1',
    }),
    at('pr.bad_outcome', 'docs-bot', 'github', {
      repository: REPO.web,
      number: 7,
      outcome: 'reverted',
      evidence: "revert of it's",
    }),
    at('merge_group.checked', null, 'github', {
      repository: REPO.webUpper,
      headSha: SHA.g,
      baseSha: null,
      headRef: 'gh-readonly-queue/main/pr-7',
      conclusion: 'success',
      summary: 'ok',
      pullRequests: [{ number: 7, headSha: SHA.b, agentId: 'docs-bot', passed: true, reason: 'allowed' }],
    }),
  ],
  [
    at('violation.recorded', 'test-bot', 'github', {
      violation: 'diff_size_exceeded',
      severity: 'high',
      consequence: 'charge_budget',
      budgetCharge: 2.5,
      details: '900 lines',
      source: "pr:o'brien?",
    }),
    at('violation.recorded', 'test-bot', 'github', {
      violation: 'error_budget_exhausted',
      severity: 'medium',
      consequence: 'suspend',
      budgetCharge: 0,
      details: 'budget',
      source: 'budget',
    }),
    at('agent.status_changed', 'test-bot', 'governance', {
      from: 'active',
      to: 'suspended',
      reason: 'budget',
    }),
  ],
  [
    at('agent.status_changed', 'infra-bot', 'carol', {
      from: 'active',
      to: 'revoked',
      reason: 'leaked a key',
    }),
    at('revocation.requested', 'infra-bot', 'carol', {
      revocationId: 'r1',
      reason: 'leaked a key',
      effects: ['github', 'vault'],
    }),
    at('revocation.effect', 'infra-bot', 'governance', {
      revocationId: 'r1',
      effect: 'vault',
      ok: true,
      detail: 'revoked',
    }),
    at('vault.token_issued', 'infra-bot', 'vault', { accessor: 'acc-1', ttlSeconds: 600 }),
  ],
  [
    requested('p1', 'T1', 'T2', 1),
    at('promotion.voted', 'docs-bot', 'bob', {
      promotionId: 'p1',
      approver: 'bob',
      verdict: 'approve',
      reason: 'ok',
    }),
    requested('p2', 'T2', 'T3', 2),
    at('promotion.resolved', 'docs-bot', 'governance', {
      promotionId: 'p1',
      outcome: 'applied',
      detail: 'applied',
    }),
    at('agent.tier_changed', 'docs-bot', 'alice', {
      from: 'T1',
      to: 'T2',
      reason: 'earned it',
      kind: 'promotion',
    }),
  ],
  [
    at('execution.lock', 'docs-bot', 'docs-bot', {
      op: 'acquired',
      lockKey: 'deploy?',
      token: 1,
      detail: 'ok',
      ttlSeconds: 60,
    }),
    at('finding.raised', null, 'watch', { key: 'k1', rule: 'r', summary: 's', evidence: [] }),
    at('finding.raised', null, 'watch', { key: "k'2?", rule: 'r', summary: 's', evidence: [] }),
    { type: 'finding.resolved', agentId: null, actor: 'watch', payload: { key: 'k1' } },
    at('council.membership', null, 'slack', { usergroup: 'S1', members: ['alice', 'bob'], unmapped: [] }),
    at('session.checkpoint_saved', 'docs-bot', 'docs-bot', { sha256: 'x', bytes: 2 }),
    at('approval.resolved', 'docs-bot', 'expiry', { approvalId: 'k2', outcome: 'expired' }),
    at('approval.resolved', 'docs-bot', 'alice', { approvalId: "k'1?", outcome: 'approved' }),
  ],
  [
    // Deployments: one waiting on a gate (runId 7, voted on), one waiting without a request
    // (runId 8), and one that waited and was answered (runId 3): only the newest entry of each counts.
    deployment(REPO.web, 7, 'production', 'waiting', 'docs-bot', "k'1?"),
    deployment(REPO.quoted, 8, "prod'?", 'waiting', 'docs-bot'),
    deployment(REPO.web, 3, 'production', 'waiting', 'test-bot', 'k0'),
    deployment(REPO.web, 3, 'production', 'rejected', 'test-bot', 'k0'),
    at('deployment.vote', 'docs-bot', 'alice', {
      approvalKey: "k'1?",
      repository: REPO.web,
      runId: 7,
      environment: 'production',
      requestSeq: 3,
      approver: 'alice',
      verdict: 'approve',
      reason: '',
      source: 'slack',
    }),
  ],
];

function deployment(
  repository: string,
  runId: number,
  environment: string,
  state: 'waiting' | 'rejected',
  agentId: string,
  key?: string,
): LedgerEntryInput {
  const rule = {
    gate: 'g',
    approvals: 1,
    council: false,
    eligible: ['alice'],
    allowOwner: false,
    expiryHours: 1,
    onExpiry: 'reject' as const,
    veto: false,
    distinctTeams: false,
    unmapped: [],
    survivePush: false,
    githubReviews: true,
  };
  return at('deployment.decided', agentId, 'github', {
    repository,
    environment,
    runId,
    deploymentId: null,
    sha: null,
    ref: null,
    creator: agentId,
    sender: agentId,
    attribution: null,
    tier: 'T1',
    state,
    gate: 'g',
    reasons: [],
    policyVersion: null,
    installationId: 1,
    ...(key
      ? { approval: { key, agentId, owner: null, rule, requestedAt: '2026-11-27T10:00:00.000Z' } }
      : {}),
  });
}

/** The history, one group a minute, then the state kept beside the chain, written through the async queries. */
export async function seedQueries(ledger: AsyncLedger, advance: () => void): Promise<void> {
  for (const [i, group] of HISTORY.entries()) {
    const outbox =
      i === 1
        ? [
            {
              target: 'github' as const,
              kind: 'check_run.upsert',
              idempotencyKey: 'o1',
              orderingKey: 'k',
              payload: {},
            },
          ]
        : [];
    await ledger.appendAll(group, { outbox });
    advance();
  }
  const { reader } = ledger;
  await agentsAsync.saveSessionCheckpoint(
    reader,
    99,
    'docs-bot',
    '{"step":"it\'s ?"}',
    '2026-11-27T10:00:00.000Z',
  );
  await checkRunsAsync.rememberCheckRun(reader, REPO.quoted, SHA.c, 'Agent Governance', 0);
  await checkRunsAsync.rememberCheckRun(reader, REPO.quoted, SHA.c, 'Agent Governance', 2 ** 40);
  for (const [key, createdAt] of [
    ['k2', '2026-11-27T10:00:02Z'],
    ["k'1?", '2026-11-27T10:00:01Z'],
    ['K0', '2026-11-27T10:00:01Z'],
  ] as const) {
    const context = { expiresAt: `${createdAt}+1h`, key };
    await approvalsAsync.remember(
      reader,
      key,
      REPO.web,
      7,
      SHA.b,
      2 ** 33,
      'docs-bot',
      JSON.stringify(context),
      'C1',
      '1.1',
      createdAt,
    );
  }
  await approvalsAsync.setState(reader, 'expired', 'k2');
  await approvalsAsync.rememberSlackMessage(reader, 'promotion:p1', 'C2', '2.2');
  await approvalsAsync.rememberSlackMessage(reader, 'promotion:p1', 'C3', '3.3');
}
