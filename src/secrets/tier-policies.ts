import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TIER_IDS, TIER_NAMES, type TierId } from '../core/tiers.js';

/** The repository's `policies/` directory, next to `dist/` or `src/`. */
function policyDir(): string {
  // From dist/src/secrets the repository root is three levels up; from src/secrets, two.
  const fromDist = fileURLToPath(new URL('../../../policies/', import.meta.url));
  const fromSrc = fileURLToPath(new URL('../../policies/', import.meta.url));
  return import.meta.url.includes('/dist/') ? fromDist : fromSrc;
}

/** `t2-builder` */
export function tierPolicyName(tier: TierId): string {
  return `${tier.toLowerCase()}-${TIER_NAMES[tier]}`;
}

export function agentOwnPolicyName(agentId: string): string {
  return `agent-${agentId}-own`;
}

export function agentRoleName(agentId: string): string {
  return `agent-${agentId}`;
}

export function tierPolicyText(tier: TierId): string {
  return readFileSync(`${policyDir()}${tierPolicyName(tier)}.hcl`, 'utf8');
}

export function agentOwnPolicyText(agentId: string): string {
  return readFileSync(`${policyDir()}agent-own.hcl.tmpl`, 'utf8').replaceAll('{{agent_id}}', agentId);
}

export const ALL_TIER_POLICIES = TIER_IDS.map((tier) => ({ tier, name: tierPolicyName(tier) }));
