/**
 * The deployment gate: this app as a GitHub custom deployment protection rule. Pure: the adapter
 * finds who is behind the deployment, the agent's tier and status (a revoke signal in the state
 * store makes it `revoked`), and the environment's section of the policy.
 *
 * The rule governs agents; it must never stall a team's own releases. A deployment no agent is
 * behind is approved at once unless its environment says `people: reject`. An agent's deployment
 * is approved only when everything needed is known and holds (fail closed): the attribution is
 * authenticated, the agent active, its tier at least the environment's `min_tier` (or, without
 * one, its tier may `deploy`), and no gate applies. A claim anyone can write (a deployment payload
 * naming an agent) only ever makes the answer stricter.
 */
import type { AgentStatus } from './lifecycle.js';
import type { EnvironmentPolicy } from './policy/policy-schema.js';
import { TIER_IDS, type TierId } from './tiers.js';

/** Who is behind a deployment, as the adapter found it. */
export type DeploymentActor =
  | { kind: 'person'; login: string }
  | {
      kind: 'agent';
      agentId: string;
      login: string;
      /** Authenticated: GitHub vouches (the creator or the run's actor is one of the agent's logins). */
      strength: 'authenticated' | 'claimed';
      via: string;
      tier: TierId;
      status: AgentStatus;
      /** The tier's capabilities include `deploy` (used when the environment names no `min_tier`). */
      tierMayDeploy: boolean;
    };

export interface DeploymentFacts {
  environment: string;
  actor: DeploymentActor;
  /** The policy's environments, or why it could not be read (then no agent deploys). */
  policy:
    | { ok: true; environments: Record<string, EnvironmentPolicy>; gates: string[] }
    | { ok: false; problem: string };
}

export type DeploymentState = 'approved' | 'rejected' | 'waiting';

export interface DeploymentVerdict {
  state: DeploymentState;
  /** Each thing checked, in order: what was seen and whether it held. */
  reasons: string[];
  /** The one line GitHub shows beside the deployment (at most a few hundred characters). */
  comment: string;
  /** The gate a waiting deployment needs. */
  gate: string | null;
}

const rank = (tier: TierId) => TIER_IDS.indexOf(tier);

export function decideDeployment(f: DeploymentFacts): DeploymentVerdict {
  const env = f.policy.ok ? (f.policy.environments[f.environment.toLowerCase()] ?? null) : null;
  const a = f.actor;
  if (a.kind === 'person') {
    if (env?.people === 'reject')
      return verdict('rejected', [
        `${a.login} is no registered agent`,
        `environment \`${env.name}\` says \`people: reject\``,
      ]);
    return verdict('approved', [`${a.login} is no registered agent: a person's deployment is not gated`]);
  }
  const who = `${a.agentId} (${a.strength} by ${a.via})`;
  const reasons = [`agent ${who}, ${a.tier}, ${a.status}`];
  // Status first: a revoked or suspended agent deploys nowhere, whatever the policy says or fails to say.
  if (a.status !== 'active') return verdict('rejected', [...reasons, `${a.agentId} is ${a.status}`]);
  if (!f.policy.ok)
    return verdict('rejected', [...reasons, `the policy could not be read: ${f.policy.problem}`]);
  if (!env)
    return verdict('rejected', [
      ...reasons,
      `environment \`${f.environment}\` has no section under \`environments:\` in the policy: no agent deploys there`,
    ]);
  const needs = env.minTier
    ? rank(a.tier) >= rank(env.minTier)
      ? null
      : `environment \`${env.name}\` needs ${env.minTier} or higher`
    : a.tierMayDeploy
      ? null
      : `${a.tier} may not deploy and environment \`${env.name}\` names no \`min_tier\``;
  if (needs) return verdict('rejected', [...reasons, needs]);
  if (a.strength === 'claimed') {
    // The agent's rules held; the claim itself earns nothing: the deployment is a person's.
    if (env.people === 'reject')
      return verdict('rejected', [
        ...reasons,
        `only a claim ties ${a.login} to ${a.agentId}, and environment \`${env.name}\` says \`people: reject\``,
      ]);
    return verdict('approved', [...reasons, `${a.login} deploys as a person; the claim loosens nothing`]);
  }
  if (env.gate) {
    if (!f.policy.gates.includes(env.gate))
      return verdict('rejected', [
        ...reasons,
        `environment \`${env.name}\` names gate \`${env.gate}\`, which the policy does not define`,
      ]);
    return { ...verdict('waiting', [...reasons, `gate \`${env.gate}\` applies`]), gate: env.gate };
  }
  return verdict('approved', [
    ...reasons,
    `environment \`${env.name}\`: ${env.minTier ? `${env.minTier} or higher` : `${a.tier} may deploy`}`,
  ]);
}

/**
 * A waiting deployment's reasons with its agent's status as judged now (revoked, suspended), not
 * the one it was first read with: its first reason names the agent, its tier and its status.
 */
export function withAgentStatus(reasons: readonly string[], status: string): string[] {
  const [first, ...rest] = reasons;
  const m = first === undefined ? null : /^(agent .*), (active|suspended|revoked)$/.exec(first);
  return m ? [`${m[1]}, ${status}`, ...rest] : [...reasons];
}

function verdict(state: DeploymentState, reasons: string[]): DeploymentVerdict {
  const head = { approved: 'Approved', rejected: 'Rejected', waiting: 'Waiting' }[state];
  return {
    state,
    reasons,
    comment: `Agent Governance: ${head}: ${reasons.join('; ')}.`.slice(0, 1000),
    gate: null,
  };
}
