import type { AgentRecord } from '../core/agent.js';
import type { LedgerPayload } from '../core/ledger-entries.js';
import { type OrgConfig, tierCapabilities } from '../core/org-config.js';
import { evaluate } from '../core/policy/evaluate.js';
import type { Policy } from '../core/policy/policy-schema.js';
import type { ChangedFile } from '../core/policy/pull-request-facts.js';
import type { TierId } from '../core/tiers.js';
import type { LedgerSource } from '../ledger/ledger.js';
import { recordedAgentDecisions } from '../ledger/queries/decisions.js';

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
export function backtestPolicy(
  db: LedgerSource,
  candidate: Policy,
  org: OrgConfig,
  options: BacktestOptions = {},
): BacktestRow[] {
  const rows = recordedAgentDecisions(db, {
    since: options.since ?? '',
    until: options.until ?? '9999',
    last: options.last ?? 100,
  });
  const results: BacktestRow[] = [];
  for (const row of rows) {
    const p = row.payload;
    if (!p.files || !p.tier || p.outcome === 'config_error' || p.outcome === 'not_agent') continue;
    const tier = p.tier;
    const agent: AgentRecord = {
      id: row.agentId,
      name: row.agentId,
      owner: null,
      tier,
      // Only decisions on active agents are replayed against the rules; status is not the policy's to change.
      status: 'active',
      identities: { githubLogins: [], trailers: [] },
      tokenHash: null,
      registeredAt: row.ts,
      tierSince: row.ts,
    };
    const files: ChangedFile[] = p.files.map((f) => ({
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
      { agent, receipts: [], org },
      new Date(row.ts),
    );
    const recordedSecrets = p.rules.find((r) => r.rule === 'secrets' && r.status === 'fire');
    const newFired = decision.rules.filter((r) => r.status === 'fire').map((r) => r.rule as string);
    if (recordedSecrets && !newFired.includes('secrets') && candidate.rules.secrets.enabled)
      newFired.push('secrets');
    const wouldBe: Verdict =
      decision.rules.some((r) => r.status === 'fire' && r.action === 'deny') ||
      (recordedSecrets && candidate.rules.secrets.action === 'deny' && candidate.rules.secrets.enabled)
        ? 'deny'
        : decision.rules.some((r) => r.status === 'pending')
          ? 'pending'
          : newFired.length > 0
            ? 'require_approval'
            : 'allow';
    const oldFired = p.rules.filter((r) => r.status === 'fire').map((r) => r.rule);
    results.push({
      seq: row.seq,
      ts: row.ts,
      pr: `${p.repository}#${p.number}@${p.headSha.slice(0, 7)}`,
      agentId: row.agentId,
      tier,
      was: recordedVerdict(p),
      wouldBe,
      newlyFired: newFired.filter((r) => !oldFired.includes(r)),
      noLongerFired: oldFired.filter((r) => !newFired.includes(r)),
    });
  }
  return results;
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
