import { createHash } from 'node:crypto';
import type { AgentRecord } from '../agent.js';
import type { OrgConfig } from '../org-config.js';
import { type Directory, directoryOf, loginKey } from '../people.js';
import type { TierCapabilities } from '../tiers.js';
import { severityOf } from '../violations.js';
import { codeOwnerGroups } from './code-owner-groups.js';
import type { ApprovalReceipt, Attribution, Decision, GateStatus, Outcome, RuleResult } from './decision.js';
import { type GateRule, pullRequestSubject, tallyGate } from './gate-tally.js';
import type { GateSettings, Policy } from './policy-schema.js';
import type { PullRequestFacts } from './pull-request-facts.js';
import { RULES } from './rules.js';

export const CHECK_NAME = 'Agent Governance';

export interface AgentState {
  agent: AgentRecord;
  /** Approvals and rejections given on this PR, any head; `evaluate` decides which still count. */
  receipts: readonly ApprovalReceipt[];
  org: Pick<OrgConfig, 'approvers' | 'council'> & Partial<Pick<OrgConfig, 'people'>>;
  /** Logins and ids of every registered agent: none of them ever approves anything. */
  agentIdentities?: readonly string[];
  /** When the PR began to wait for people at this head: every gate's deadline runs from there. */
  waitingSince?: string;
  /** How the PR is tied to the agent; by default, its author is one of the agent's logins. */
  attribution?: Attribution;
}

/** sha256 over each changed file's path, status and blob: a new push with the same diff keeps it. */
export function diffHash(facts: PullRequestFacts): string {
  const lines = facts.files
    .map((f) => `${f.path}\0${f.previousPath ?? ''}\0${f.status}\0${f.blobSha ?? ''}`)
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * Evaluates a PR: a pure function of the policy, the agent's tier capabilities, the PR facts and
 * the agent's state. Every rule the pipeline names runs, so the decision explains itself fully.
 */
export function evaluate(
  policy: Policy,
  capabilities: TierCapabilities,
  facts: PullRequestFacts,
  state: AgentState,
  now: Date,
): Decision {
  const { agent } = state;
  const attribution = state.attribution ?? {
    strength: 'authenticated',
    via: `author ${facts.author}`,
    author: facts.author,
  };
  const rules: RuleResult[] = [];
  for (const stage of policy.pipeline.stages) {
    for (const id of stage.rules) {
      const settings = policy.rules[id] as { enabled?: boolean };
      if (settings.enabled === false) {
        rules.push({
          rule: id,
          stage: stage.type,
          status: 'skip',
          action: null,
          gate: null,
          summary: 'disabled by the policy',
          violation: null,
          annotations: [],
        });
        continue;
      }
      rules.push(RULES[id]({ policy, capabilities, facts, agent, ownCheckName: CHECK_NAME }, stage.type));
    }
  }
  const hash = diffHash(facts);
  const gates = gateStatuses(policy, rules, facts, hash, state, now);
  const denied = rules.filter((r) => r.status === 'fire' && r.action === 'deny');
  // Expiry never approves: a request past its deadline under `on_expiry: reject` is a rejection.
  const rejected = gates.filter((g) => ['rejected', 'vetoed', 'expired'].includes(g.tally.state));
  const pending = rules.filter((r) => r.status === 'pending');
  const waitingGates = gates.filter((g) => !g.satisfied);

  let outcome: Outcome;
  let summary: string;
  if (denied.length > 0) {
    outcome = 'deny';
    summary = `Denied: ${denied.map((r) => r.summary).join('; ')}`;
  } else if (rejected.length > 0) {
    outcome = 'deny';
    const by = [...new Set(rejected.flatMap((g) => g.rejectedBy))];
    const expired = rejected.filter((g) => g.tally.state === 'expired');
    summary = [
      ...(by.length ? [`Rejected by ${by.join(', ')}`] : []),
      ...expired.map((g) => `Rejected: ${g.tally.description}`),
    ].join('; ');
  } else if (pending.length > 0) {
    outcome = 'pending';
    summary = `Waiting: ${pending.map((r) => r.summary).join('; ')}`;
  } else if (waitingGates.length > 0) {
    outcome = 'require_approval';
    summary = `Needs approval: ${waitingGates.map((g) => g.tally.description).join('; ')}`;
  } else {
    outcome = 'allow';
    summary =
      gates.length > 0
        ? `Approved by ${[...new Set(gates.flatMap((g) => g.approvedBy))].join(', ')}`
        : 'Allowed: every rule passed';
  }

  return {
    outcome,
    summary,
    agentId: agent.id,
    tier: agent.tier,
    repository: facts.repository,
    number: facts.number,
    headSha: facts.headSha,
    diffHash: hash,
    policyVersion: policy.version,
    policySource: policy.source,
    rules,
    gates,
    // A claimed attribution may make the gate stricter; it never records anything against the agent.
    violations:
      attribution.strength === 'authenticated'
        ? denied
            .filter((r) => r.violation !== null)
            .map((r) => ({ type: r.violation!, severity: severityOf(r.violation!), details: r.summary }))
        : [],
    attribution,
    changedFiles: facts.files.length,
    changedLines: facts.files.reduce((n, f) => n + f.additions + f.deletions, 0),
  };
}

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

/**
 * The secret scan alone, for a PR no agent is tied to: a secret found denies (nobody is charged);
 * nothing else of the agent rules applies.
 */
export function scanForSecrets(policy: Policy, facts: PullRequestFacts): RuleResult {
  const strict: Policy = {
    ...policy,
    rules: { ...policy.rules, secrets: { ...policy.rules.secrets, action: 'deny' } },
  };
  return RULES.secrets(
    {
      policy: strict,
      capabilities: {
        actions: [],
        allowedPaths: [],
        maxChangedFiles: 0,
        maxChangedLines: 0,
        mayPassWithoutHuman: false,
        vaultReadPaths: [],
      },
      facts,
      agent: {
        id: 'none',
        name: 'none',
        owner: null,
        tier: 'T0',
        status: 'active',
        identities: { githubLogins: [], trailers: [] },
        tokenHash: null,
        registeredAt: '',
        tierSince: '',
      },
      ownCheckName: CHECK_NAME,
    },
    'execute',
  );
}

function gateStatuses(
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
