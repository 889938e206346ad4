/**
 * Preflight: may this agent do this action on this repository and these paths now? A pure function
 * of what the adapter read; every check is reported, passed or not, so a denial explains itself.
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import { AGENT_ACTIONS } from './actions.js';
import type { AgentRecord } from './agent.js';
import type { RevokeSignal } from './derived-state.js';
import type { TierCapabilities } from './tiers.js';

export const preflightRequestSchema = z
  .object({
    /** Optional: when given it must be the agent the token belongs to. */
    agent: z.string().optional(),
    action: z.enum(AGENT_ACTIONS),
    repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'repository is owner/name'),
    paths: z.array(z.string().min(1)).max(3000).default([]),
  })
  .strict();
export type PreflightRequest = z.infer<typeof preflightRequestSchema>;

export interface PreflightFacts {
  agent: AgentRecord;
  revokeSignal: RevokeSignal | null;
  capabilities: TierCapabilities;
  /** Who holds the execution lock this action would need, when not this agent. */
  lockHeldBy: string | null;
  budgetUsed: number;
  budgetLimit: number;
  rateAllowed: boolean;
}

export interface PreflightCheck {
  check: 'revocation' | 'status' | 'action' | 'paths' | 'lock' | 'budget' | 'rate';
  ok: boolean;
  detail: string;
}

export interface PreflightDecision {
  decision: 'allow' | 'deny';
  checks: PreflightCheck[];
  /** The failed checks' details, for a one-line answer. */
  reasons: string[];
}

/** Actions that change something and so need the execution lock. */
const LOCKED_ACTIONS = new Set(['push', 'run_pipeline', 'deploy', 'modify_policy']);

export function decidePreflight(request: PreflightRequest, facts: PreflightFacts): PreflightDecision {
  const { agent, capabilities } = facts;
  const allowed = picomatch(capabilities.allowedPaths.length ? [...capabilities.allowedPaths] : ['\0'], {
    dot: true,
  });
  const outside = request.paths.filter((p) => !allowed(p));
  const checks: PreflightCheck[] = [
    facts.revokeSignal
      ? {
          check: 'revocation',
          ok: false,
          detail: `revoked at ${facts.revokeSignal.at} by ${facts.revokeSignal.actor}: ${facts.revokeSignal.reason}`,
        }
      : { check: 'revocation', ok: true, detail: 'no revoke signal' },
    { check: 'status', ok: agent.status === 'active', detail: `agent is ${agent.status}` },
    capabilities.actions.includes(request.action)
      ? { check: 'action', ok: true, detail: `${agent.tier} may ${request.action}` }
      : {
          check: 'action',
          ok: false,
          detail: `${agent.tier} may not ${request.action} (allowed: ${capabilities.actions.join(', ')})`,
        },
    outside.length === 0
      ? {
          check: 'paths',
          ok: true,
          detail: request.paths.length ? 'every path allowed for the tier' : 'no paths named',
        }
      : {
          check: 'paths',
          ok: false,
          detail: `outside what ${agent.tier} may change: ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}`,
        },
    LOCKED_ACTIONS.has(request.action) && facts.lockHeldBy
      ? {
          check: 'lock',
          ok: false,
          detail: `the execution lock for ${request.repository} is held by ${facts.lockHeldBy}`,
        }
      : { check: 'lock', ok: true, detail: 'no conflicting execution lock' },
    facts.budgetUsed >= facts.budgetLimit
      ? {
          check: 'budget',
          ok: false,
          detail: `error budget exhausted: ${facts.budgetUsed} of ${facts.budgetLimit} used`,
        }
      : { check: 'budget', ok: true, detail: `${facts.budgetUsed} of ${facts.budgetLimit} budget used` },
    {
      check: 'rate',
      ok: facts.rateAllowed,
      detail: facts.rateAllowed ? 'within the request rate' : 'too many requests; slow down',
    },
  ];
  const failed = checks.filter((c) => !c.ok);
  return {
    decision: failed.length ? 'deny' : 'allow',
    checks,
    reasons: failed.map((c) => `${c.check}: ${c.detail}`),
  };
}
