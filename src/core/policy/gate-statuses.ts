/**
 * The gates a PR waits on: those its firing rules name, each resolved from the policy and the
 * organisation config and tallied over the PR's receipts.
 */
import { type Directory, directoryOf, loginKey } from '../people.js';
import { codeOwnerGroups } from './code-owner-groups.js';
import type { GateStatus, RuleResult } from './decision.js';
import type { AgentState } from './evaluate.js';
import { type GateRule, pullRequestSubject, tallyGate } from './gate-tally.js';
import type { GateSettings, Policy } from './policy-schema.js';
import type { PullRequestFacts } from './pull-request-facts.js';

/**
 * The gates of a policy with the organisation's approvers resolved: what the tally runs on. A
 * `codeowners` gate needs the PR's facts: who owns each path it changes.
 */
export function gateRule(
  policy: Policy,
  name: string,
  org: AgentState['org'],
  facts?: Pick<PullRequestFacts, 'files' | 'codeOwners' | 'repository'>,
): GateRule {
  const gate = policy.gates[name] ?? policy.gates.default ?? DEFAULT_GATE;
  if (gate.approvers === 'codeowners' && !gate.council) {
    const organisation = facts?.repository.split('/')[0] ?? '';
    const groups = codeOwnerGroups(facts?.codeOwners, facts?.files ?? [], org.approvers, organisation);
    return {
      ...settingsOf(name, gate),
      eligible: [...new Set(groups.flatMap((g) => g.owners))].sort(),
      unmapped: [...new Set(groups.flatMap((g) => g.unmapped))],
      codeOwners: groups,
    };
  }
  const council = gate.council ? org.council : undefined;
  const listed = gate.approvers === 'codeowners' ? [] : gate.approvers;
  const named = council ? council.members : listed.length ? listed : org.approvers.map((a) => a.github);
  // A council's members are named by the organisation config itself; a plain gate's approvers must
  // be people the organisation config knows, or anyone could be named by a repository's policy.
  // `people:` entries are known by both identities but have no right to approve.
  const approvers = new Set(org.approvers.map((a) => loginKey(a.github)));
  const known = (login: string) => Boolean(council) || approvers.has(loginKey(login));
  return {
    ...settingsOf(name, gate),
    approvals: council ? council.quorum : gate.approvals,
    council: Boolean(council),
    veto: Boolean(council?.veto),
    distinctTeams: Boolean(council?.distinct_teams),
    eligible: [...new Set(named.filter(known))].sort(),
    unmapped: named.filter((login) => !known(login)),
  };
}

function settingsOf(name: string, gate: GateSettings): Omit<GateRule, 'eligible' | 'unmapped'> {
  return {
    gate: name,
    approvals: gate.approvals,
    council: false,
    veto: false,
    distinctTeams: false,
    allowOwner: gate.allow_owner,
    survivePush: gate.survive_push,
    githubReviews: gate.github_reviews,
    expiryHours: gate.expiry_hours,
    onExpiry: gate.on_expiry,
  };
}

const DEFAULT_GATE: GateSettings = {
  approvals: 1,
  approvers: [],
  council: false,
  allow_owner: false,
  expiry_hours: 72,
  on_expiry: 'reject',
  survive_push: false,
  github_reviews: true,
};

/** The organisation's directory of people, with every agent's logins and id marked as agents. */
export function directoryFor(state: Pick<AgentState, 'org' | 'agentIdentities' | 'agent'>): Directory {
  return directoryOf(
    [...state.org.approvers, ...(state.org.people ?? [])],
    [...(state.agentIdentities ?? []), state.agent.id, ...state.agent.identities.githubLogins],
  );
}

/** Each gate the firing rules name, once, with its rule and this PR's tally. */
export function gateStatuses(
  policy: Policy,
  rules: RuleResult[],
  facts: PullRequestFacts,
  hash: string,
  state: AgentState,
  now: Date,
): GateStatus[] {
  const names = [
    ...new Set(
      rules.filter((r) => r.status === 'fire' && r.action === 'require_approval').map((r) => r.gate!),
    ),
  ];
  const directory = directoryFor(state);
  return names.map((name) => {
    const rule = gateRule(policy, name, state.org, facts);
    const tally = tallyGate(
      rule,
      state.receipts,
      pullRequestSubject({
        headSha: facts.headSha,
        diffHash: hash,
        policyVersion: policy.version,
        owner: state.agent.owner,
        author: facts.author,
        requestedAt: state.waitingSince ?? null,
      }),
      directory,
      now,
    );
    return {
      ...rule,
      tally,
      approvals: rule.approvals,
      approvedBy: tally.approvedBy,
      rejectedBy: tally.rejectedBy,
      satisfied: tally.state === 'approved',
    };
  });
}
