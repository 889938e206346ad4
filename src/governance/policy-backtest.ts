import type { AgentRecord } from '../core/agent.js';
import type { LedgerPayload } from '../core/ledger-entries.js';
import { type OrgConfig, tierCapabilities } from '../core/org-config.js';
import type { Decision } from '../core/policy/decision.js';
import { evaluate } from '../core/policy/evaluate.js';
import type { Policy } from '../core/policy/policy-schema.js';
import type { ChangedFile } from '../core/policy/pull-request-facts.js';
import type { TierId } from '../core/tiers.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { decisionsAsync, type RecordedDecision } from '../ledger/queries/decisions.js';

/** What a policy says before anyone approves: approvals are bound to a policy version anyway. */
export type Verdict = 'allow' | 'require_approval' | 'deny' | 'pending';

export interface BacktestRow {
  seq: number;
  ts: string;
  pr: string;
  agentId: string;
  tier: TierId;
  was: Verdict;
  wouldBe: Verdict;
  /** Rules that fire under the candidate and did not before, and the reverse. */
  newlyFired: string[];
  noLongerFired: string[];
}

export interface BacktestOptions {
  last?: number;
  since?: string;
  until?: string;
}

type DecisionPayload = LedgerPayload<'decision.recorded'>;

/**
 * Replays a candidate policy over the agent PR decisions recorded in the ledger and reports which
 * verdicts would change. File contents are not in the ledger, so the secrets rule keeps the result
 * it had; everything else is evaluated again from the recorded paths and sizes.
 */
export async function backtestPolicy(
  reader: LedgerReader,
  candidate: Policy,
  org: OrgConfig,
  options: BacktestOptions = {},
): Promise<BacktestRow[]> {
  const rows = await decisionsAsync.recordedAgentDecisions(reader, {
    since: options.since ?? '',
    until: options.until ?? '9999',
    last: options.last ?? 100,
  });
  const results: BacktestRow[] = [];
  for (const row of rows) {
    const { files, tier, outcome } = row.payload;
    if (!files || !tier || outcome === 'config_error' || outcome === 'not_agent') continue;
    results.push(replay(row, tier, files, candidate, org));
  }
  return results;
}

/** One recorded decision evaluated again under the candidate, as it was on the day it was made. */
function replay(
  row: RecordedDecision,
  tier: TierId,
  recordedFiles: NonNullable<DecisionPayload['files']>,
  candidate: Policy,
  org: OrgConfig,
): BacktestRow {
  const p = row.payload;
  const files: ChangedFile[] = recordedFiles.map((f) => ({
    ...f,
    status: f.status as ChangedFile['status'],
    blobSha: null,
    addedLines: [],
  }));
  const decision = evaluate(
    withoutContentRules(candidate),
    tierCapabilities(org, tier),
    {
      repository: p.repository,
      number: p.number,
      title: '',
      url: '',
      author: p.author ?? '',
      headSha: p.headSha,
      baseRef: '',
      draft: false,
      files,
      coAuthors: [],
      checks: [],
    },
    { agent: replayedAgent(row.agentId, tier, row.ts), receipts: [], org },
    new Date(row.ts),
  );
  const recordedSecrets = p.rules.some((r) => r.rule === 'secrets' && r.status === 'fire');
  const newFired = decision.rules.filter((r) => r.status === 'fire').map((r) => r.rule as string);
  if (recordedSecrets && !newFired.includes('secrets') && candidate.rules.secrets.enabled)
    newFired.push('secrets');
  const oldFired = p.rules.filter((r) => r.status === 'fire').map((r) => r.rule);
  return {
    seq: row.seq,
    ts: row.ts,
    pr: `${p.repository}#${p.number}@${p.headSha.slice(0, 7)}`,
    agentId: row.agentId,
    tier,
    was: recordedVerdict(p),
    wouldBe: candidateVerdict(decision, newFired, recordedSecrets, candidate),
    newlyFired: newFired.filter((r) => !oldFired.includes(r)),
    noLongerFired: oldFired.filter((r) => !newFired.includes(r)),
  };
}

/**
 * The agent as the replay sees it. Only decisions on active agents are replayed against the rules;
 * status is not the policy's to change.
 */
function replayedAgent(agentId: string, tier: TierId, at: string): AgentRecord {
  return {
    id: agentId,
    name: agentId,
    owner: null,
    tier,
    status: 'active',
    identities: { githubLogins: [], trailers: [] },
    tokenHash: null,
    registeredAt: at,
    tierSince: at,
  };
}

/** What the candidate says: a deny (the recorded secrets finding included), a wait, or the rules that fire. */
function candidateVerdict(
  decision: Decision,
  fired: readonly string[],
  recordedSecrets: boolean,
  candidate: Policy,
): Verdict {
  const secrets = candidate.rules.secrets;
  if (decision.rules.some((r) => r.status === 'fire' && r.action === 'deny')) return 'deny';
  if (recordedSecrets && secrets.action === 'deny' && secrets.enabled) return 'deny';
  if (decision.rules.some((r) => r.status === 'pending')) return 'pending';
  return fired.length > 0 ? 'require_approval' : 'allow';
}

function recordedVerdict(p: DecisionPayload): Verdict {
  if (p.outcome === 'deny') return 'deny';
  if (p.outcome === 'pending') return 'pending';
  return p.rules.some((r) => r.status === 'fire') ? 'require_approval' : 'allow';
}

/**
 * The ledger keeps paths and counts, not file contents: the secrets rule cannot be replayed (it
 * keeps its recorded result above), so it must not judge the content it is not given.
 */
function withoutContentRules(policy: Policy): Policy {
  return { ...policy, rules: { ...policy.rules, secrets: { ...policy.rules.secrets, enabled: false } } };
}
