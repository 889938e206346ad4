/**
 * The one tally of approvals. Given a gate, the receipts given on a request and who the request
 * concerns, it says where the gate stands: approved, waiting for N more from whom, rejected,
 * vetoed, expired or unreachable. The PR check, the Slack card, the App Home, the approver digest,
 * promotions and `/agent status` all render this answer; none counts on its own.
 */
import { type Directory, isAgentIdentity, loginKey, personByLogin } from '../people.js';
import type { CodeOwnerGroup } from './code-owner-groups.js';
import { describeOwners, ownersStillNeeded } from './code-owner-tally.js';
import type { ApprovalReceipt } from './decision.js';

/** A gate with everything the tally needs, resolved from the policy and the organisation config. */
export interface GateRule {
  gate: string;
  /** Approvals it takes (a council gate: the council's quorum). */
  approvals: number;
  council: boolean;
  veto: boolean;
  /** A council that counts one approval per team. */
  distinctTeams: boolean;
  /** The people the gate names (GitHub logins known to the organisation config). Empty: nobody. */
  eligible: string[];
  /** Logins the gate names that the organisation config does not map: never counted. */
  unmapped: string[];
  allowOwner: boolean;
  survivePush: boolean;
  githubReviews: boolean;
  expiryHours: number;
  onExpiry: 'reject' | 'escalate';
  /**
   * An `approvers: codeowners` gate: the changed paths grouped by their owners. Each group needs an
   * approval from one of its owners (`eligible` is every group's owners together); a group with
   * none makes the gate unreachable.
   */
  codeOwners?: CodeOwnerGroup[];
}

/** Who and what a request is about. Null bindings are not checked (promotions have no commit). */
export interface TallySubject {
  headSha: string | null;
  diffHash: string | null;
  policyVersion: string | null;
  owner: string | null;
  /** People who never count on this request, with why: the PR's author, the request's requester. */
  excluded: readonly { login: string; reason: string }[];
  /** When the request began to wait; with `expiryHours` it sets the deadline. Null: no deadline yet. */
  requestedAt: string | null;
}

/** A pull request's approval request as the tally sees it: its author never approves it. */
export function pullRequestSubject(pr: {
  headSha: string;
  diffHash: string | null;
  policyVersion: string | null;
  owner: string | null;
  author: string | null;
  requestedAt: string | null;
}): TallySubject {
  return {
    headSha: pr.headSha,
    diffHash: pr.diffHash,
    policyVersion: pr.policyVersion,
    owner: pr.owner,
    excluded: pr.author
      ? [{ login: pr.author, reason: 'the author of a pull request never approves it' }]
      : [],
    requestedAt: pr.requestedAt,
  };
}

export type GateState = 'approved' | 'waiting' | 'rejected' | 'vetoed' | 'expired' | 'unreachable';

export interface GateTally {
  gate: string;
  state: GateState;
  required: number;
  approvedBy: string[];
  rejectedBy: string[];
  /** Approvals still missing (0 once approved). */
  missing: number;
  /** Who may still approve: named, allowed, not yet voted, not of a team already counted. */
  mayApprove: string[];
  /** Receipts for this request that do not count, and why (shown so nobody wonders). */
  notCounted: { approver: string; reason: string }[];
  expiresAt: string | null;
  /** Past the deadline under `on_expiry: escalate`: it keeps waiting and the admins are told. */
  escalated: boolean;
  /** A code-owners gate: the paths still without an owner's approval, with who may still give it. */
  missingOwners: { paths: string[]; owners: string[]; why: string | null }[];
  /** One sentence for people. */
  description: string;
}

export function tallyGate(
  rule: GateRule,
  receipts: readonly ApprovalReceipt[],
  subject: TallySubject,
  directory: Directory,
  now: Date,
): GateTally {
  const expiresAt =
    subject.requestedAt === null
      ? null
      : new Date(Date.parse(subject.requestedAt) + rule.expiryHours * 3600_000).toISOString();
  const pastDeadline = expiresAt !== null && now.getTime() >= Date.parse(expiresAt);
  const barred = barring(rule, subject, directory);
  const { latest, notCounted } = countedVerdicts(rule, receipts, subject, expiresAt, barred);
  const verdicts = [...latest.values()];
  const approvers = verdicts.filter((r) => r.verdict === 'approve').map((r) => r.approver);
  const approvedBy = (rule.distinctTeams ? onePerTeam(approvers, directory) : approvers).sort();
  const rejectedBy = verdicts
    .filter((r) => r.verdict === 'reject')
    .map((r) => r.approver)
    .sort();
  const mayApprove = stillMayApprove(
    rule,
    directory,
    approvedBy,
    (login) => barred(login) === null && !latest.has(loginKey(login)),
  );
  const owners = ownersStillNeeded(
    rule,
    approvedBy,
    (login) => barred(login) === null && !latest.has(loginKey(login)),
  );
  const missing = Math.max(0, rule.approvals - approvedBy.length, owners.missing.length ? 1 : 0);
  const state = gateState(rule, {
    rejected: rejectedBy.length > 0,
    missing,
    pastDeadline,
    reachable: approvedBy.length + stillReachable(rule, directory, mayApprove),
    blocked: owners.blocked,
  });
  const tally = {
    gate: rule.gate,
    state,
    required: rule.approvals,
    approvedBy,
    rejectedBy,
    missing: state === 'approved' ? 0 : missing,
    mayApprove: state !== 'waiting' ? [] : owners.missing.length ? owners.mayApprove : mayApprove,
    notCounted,
    expiresAt,
    escalated: state === 'waiting' && pastDeadline && rule.onExpiry === 'escalate',
    missingOwners: state === 'approved' ? [] : owners.missing,
  };
  return { ...tally, description: describeTally(rule, tally) };
}

/** Why a person may never count on this request, or null when they may. */
function barring(
  rule: GateRule,
  subject: TallySubject,
  directory: Directory,
): (login: string) => string | null {
  const eligible = new Set(rule.eligible.map(loginKey));
  return (login) => {
    const key = loginKey(login);
    if (isAgentIdentity(directory, login)) return 'an agent never approves';
    const excluded = subject.excluded.find((e) => loginKey(e.login) === key);
    if (excluded) return excluded.reason;
    if (!rule.allowOwner && subject.owner && loginKey(subject.owner) === key)
      return "the agent's owner may not approve this gate";
    if (!eligible.has(key))
      return rule.council
        ? 'not a council member'
        : rule.codeOwners
          ? `not a code owner of any changed path (gate \`${rule.gate}\`)`
          : `not a named approver of gate \`${rule.gate}\``;
    return null;
  };
}

/**
 * The verdict that counts of each person (their newest, whichever channel it came through), by
 * login key, and the receipts about this request that do not count, with why. Receipts for another
 * gate, commit, diff or policy are not about this request at all and are left out.
 */
function countedVerdicts(
  rule: GateRule,
  receipts: readonly ApprovalReceipt[],
  subject: TallySubject,
  expiresAt: string | null,
  barred: (login: string) => string | null,
): { latest: Map<string, ApprovalReceipt>; notCounted: GateTally['notCounted'] } {
  const notCounted: GateTally['notCounted'] = [];
  const latest = new Map<string, ApprovalReceipt>();
  for (const r of receipts) {
    if (r.gate !== null && r.gate !== rule.gate) continue;
    if (subject.policyVersion !== null && r.policyVersion !== subject.policyVersion) continue;
    if (
      !rule.survivePush &&
      subject.headSha !== null &&
      (r.headSha !== subject.headSha || (subject.diffHash !== null && r.diffHash !== subject.diffHash))
    )
      continue;
    const reason =
      !rule.githubReviews && r.source === 'github_review'
        ? `GitHub reviews do not count for gate \`${rule.gate}\``
        : rule.onExpiry === 'reject' && expiresAt !== null && r.at > expiresAt
          ? 'given after the deadline'
          : barred(r.approver);
    if (reason) {
      notCounted.push({ approver: r.approver, reason });
      continue;
    }
    latest.set(loginKey(r.approver), r);
  }
  return { latest, notCounted };
}

/** Who may still approve: named, `open` (allowed, not yet voted), not of a team already counted. */
function stillMayApprove(
  rule: GateRule,
  directory: Directory,
  approvedBy: readonly string[],
  open: (login: string) => boolean,
): string[] {
  const countedTeams = new Set(approvedBy.flatMap((login) => teamsOf(login, directory)));
  return rule.eligible
    .filter(open)
    .filter((login) => !rule.distinctTeams || !teamsOf(login, directory).some((t) => countedTeams.has(t)))
    .sort();
}

/** Approvals still reachable from `mayApprove`: with distinct teams, one per team not counted yet. */
function stillReachable(rule: GateRule, directory: Directory, mayApprove: readonly string[]): number {
  return rule.distinctTeams
    ? new Set(mayApprove.map((login) => teamsOf(login, directory).join('+'))).size
    : mayApprove.length;
}

/**
 * Where the gate stands. A council's rejection is a veto only where the council has one (else it
 * is one vote among others); anyone else's rejection rejects. Expiry never approves.
 */
function gateState(
  rule: GateRule,
  t: { rejected: boolean; missing: number; pastDeadline: boolean; reachable: number; blocked: boolean },
): GateState {
  if (rule.council && rule.veto && t.rejected) return 'vetoed';
  if (!rule.council && t.rejected) return 'rejected';
  if (t.missing === 0) return 'approved';
  if (t.pastDeadline && rule.onExpiry === 'reject') return 'expired';
  if (t.reachable < rule.approvals || t.blocked) return t.rejected ? 'rejected' : 'unreachable';
  return 'waiting';
}

function describeTally(rule: GateRule, t: Omit<GateTally, 'description'>): string {
  const gate = `gate \`${rule.gate}\``;
  if (rule.codeOwners && t.missingOwners.length) {
    if (t.state === 'waiting')
      return `${gate} needs a code owner's approval for ${describeOwners(t, false)}${t.escalated ? ' (past its deadline: escalated to the admins)' : ''}`;
    if (t.state === 'unreachable')
      return `${gate} cannot be approved: nobody may approve ${describeOwners(t, true)}`;
  }
  switch (t.state) {
    case 'approved':
      return `${gate} approved by ${t.approvedBy.join(', ')}`;
    case 'rejected':
      return `${gate} rejected by ${t.rejectedBy.join(', ')}`;
    case 'vetoed':
      return `${gate} vetoed by ${t.rejectedBy.join(', ')}`;
    case 'expired':
      return `${gate} expired at ${t.expiresAt} without enough approvals (expiry never approves)`;
    case 'unreachable':
      if (rule.eligible.length === 0)
        return rule.council
          ? `${gate} needs the council, and the council has no members: add \`council.members\` to the organisation config`
          : `no approvers are configured for ${gate}: add \`approvers:\` to the organisation config`;
      return `${gate} cannot be approved: it needs ${t.missing} more approval(s) and nobody left may give them (named: ${rule.eligible.join(', ')})`;
    case 'waiting':
      return `${gate} needs ${t.missing} more approval(s) from ${rule.council ? 'the council: ' : ''}${t.mayApprove.join(', ')}${t.escalated ? ' (past its deadline: escalated to the admins)' : ''}`;
  }
}

function teamsOf(login: string, directory: Directory): string[] {
  const teams = personByLogin(directory, login)?.teams ?? [];
  return teams.length ? [...teams] : [`user:${loginKey(login)}`];
}

/** The first approver of each team (an approver in no team is a team of their own). */
function onePerTeam(approvers: string[], directory: Directory): string[] {
  const seen = new Set<string>();
  return [...approvers].sort().filter((login) => {
    const teams = teamsOf(login, directory);
    if (teams.some((t) => seen.has(t))) return false;
    for (const t of teams) seen.add(t);
    return true;
  });
}

/** The state of a request with several gates: what the card and the digest show. */
export function overallState(tallies: readonly GateTally[]): GateState {
  const order: GateState[] = ['vetoed', 'rejected', 'expired', 'unreachable', 'waiting', 'approved'];
  for (const state of order) if (tallies.some((t) => t.state === state)) return state;
  return 'approved';
}
