import type { AgentRecord } from '../core/agent.js';
import type { OrgConfig } from '../core/org-config.js';
import type { Attribution } from '../core/policy/decision.js';
import { TIER_IDS } from '../core/tiers.js';

/** What one commit of a PR says about who wrote it, and whether GitHub vouches for it. */
export interface CommitClaim {
  coAuthors: string[];
  verified: boolean;
  authorEmail: string | null;
}

/**
 * The agent a PR belongs to, and how strongly. Authenticated: GitHub vouches for it (the author
 * is one of the agent's logins; with `trailers_verified`, a trailer on a commit GitHub verified
 * with the agent's email). Claimed: only a trailer anyone can write says so.
 */
export function identifyAgent(
  agents: readonly AgentRecord[],
  config: OrgConfig,
  login: string,
  commits: readonly CommitClaim[],
): { agent: AgentRecord; attribution: Attribution } | null {
  const lower = login.toLowerCase();
  const byLogin = agents.find((a) => a.identities.githubLogins.some((l) => l.toLowerCase() === lower));
  if (byLogin)
    return {
      agent: byLogin,
      attribution: { strength: 'authenticated', via: `author ${login}`, author: login },
    };
  const strictest = strictestClaim(claimsOf(agents, config, commits));
  if (!strictest) return null;
  return {
    agent: strictest.agent,
    attribution: {
      strength: strictest.verified ? 'authenticated' : 'claimed',
      via: `${strictest.verified ? 'verified commit' : 'trailer'} ${strictest.trailer}`,
      author: login,
    },
  };
}

interface Claim {
  agent: AgentRecord;
  trailer: string;
  verified: boolean;
}

/** Every agent the commits claim, and whether GitHub vouches for the claim. */
function claimsOf(
  agents: readonly AgentRecord[],
  config: OrgConfig,
  commits: readonly CommitClaim[],
): Claim[] {
  const claims: Claim[] = [];
  for (const commit of commits) {
    for (const trailer of commit.coAuthors) {
      const email = emailOf(trailer);
      const agent = agents.find((a) => a.identities.trailers.some((t) => emailOf(t) === email));
      if (!email || !agent) continue;
      const verified =
        config.agents.find((a) => a.id === agent.id)?.trailers_verified === true &&
        commit.verified &&
        commit.authorEmail?.toLowerCase() === email;
      claims.push({ agent, trailer, verified });
    }
  }
  return claims;
}

/**
 * A claim may only make the gate stricter: of several, the strictest decides (an agent that is not
 * active, then the lowest tier), whatever order the commits come in.
 */
function strictestClaim(claims: Claim[]): Claim | undefined {
  return claims.sort(
    (x, y) =>
      Number(x.agent.status === 'active') - Number(y.agent.status === 'active') ||
      TIER_IDS.indexOf(x.agent.tier) - TIER_IDS.indexOf(y.agent.tier) ||
      Number(y.verified) - Number(x.verified),
  )[0];
}

function emailOf(trailer: string): string {
  return /<([^>]+)>/.exec(trailer)?.[1]?.toLowerCase() ?? '';
}
