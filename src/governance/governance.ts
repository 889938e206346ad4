import type { AgentIdentities, AgentRecord } from '../core/agent.js';
import { agentIdSchema } from '../core/agent.js';
import { stateChangesFor } from '../core/derived-state.js';
import { locksToRestore } from '../core/execution-locks.js';
import type { LedgerEntry, LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import type { OrgConfig } from '../core/org-config.js';
import { type Directory, directoryOf } from '../core/people.js';
import type { ApprovalReceipt, Attribution, Decision, GateStatus } from '../core/policy/decision.js';
import type { GateRule } from '../core/policy/gate-tally.js';
import type { PullRequestFacts } from '../core/policy/pull-request-facts.js';
import { safetyStateChanges } from '../core/safety-action.js';
import { TIER_IDS, type TierId } from '../core/tiers.js';
import type { Checkpoints } from '../ledger/checkpoints.js';
import type { AppendOptions, Ledger } from '../ledger/ledger.js';
import { agentStatus } from '../ledger/queries/agents.js';
import {
  approvalReceipts,
  councilMembershipBetween,
  type LatestDecision,
  latestDecision,
  newestDecisionsWaiting,
  waitingSince,
} from '../ledger/queries/decisions.js';
import { lockHistory } from '../ledger/queries/locks.js';
import { budgetUsed, suspendedForExhaustedBudget } from '../ledger/queries/violations.js';
import type { SafetyJournal } from '../ledger/safety-journal.js';
import { type Clock, systemClock } from '../platform/clock.js';
import { UserError } from '../platform/errors.js';
import type { StateStore } from '../state/state-store.js';
import { hashAgentToken, newAgentToken } from './agent-token.js';
import { recordViolations, type ViolationReport } from './record-violations.js';

export interface GovernanceDeps {
  ledger: Ledger;
  state: StateStore;
  checkpoints: Checkpoints;
  config: OrgConfig;
  /** Where revocations and pauses wait while the ledger cannot be written (none in memory). */
  journal?: SafetyJournal | null;
  /** "Now" for everything governance decides (the system clock unless a test passes its own). */
  clock?: Clock;
}

export interface RegisterAgentInput {
  id: string;
  name?: string | undefined;
  owner?: string | null | undefined;
  tier: TierId;
  identities?: Partial<AgentIdentities>;
}

/**
 * The service that ties the ledger, the state store and the organisation config together. Every
 * change is written to the ledger first (the truth) and then applied to the state store (derived),
 * through the one mapping in `core/derived-state`.
 */
export class Governance {
  readonly ledger: Ledger;
  readonly state: StateStore;
  readonly checkpoints: Checkpoints;
  readonly config: OrgConfig;
  readonly journal: SafetyJournal | null;
  readonly clock: Clock;
  /** Highest ledger sequence this process has applied to the state store. */
  private appliedSeq = 0;
  /** GitHub login (lower case) → agent id, kept by `syncState`, for checks that must not wait on I/O. */
  private readonly logins = new Map<string, string>();
  private readonly agentIds = new Set<string>();
  private readonly entryListeners: Array<(entry: LedgerEntry) => void> = [];
  private syncing: Promise<void> = Promise.resolve();

  constructor(deps: GovernanceDeps) {
    this.ledger = deps.ledger;
    this.state = deps.state;
    this.checkpoints = deps.checkpoints;
    this.config = deps.config;
    this.journal = deps.journal ?? null;
    this.clock = deps.clock ?? systemClock;
  }

  /** Called once for every ledger entry this process applies (its own and other processes'). */
  onEntry(listener: (entry: LedgerEntry) => void): void {
    this.entryListeners.push(listener);
  }

  /** Appends entries (atomically) and brings the state store up to date with them. */
  async record(
    inputs: readonly LedgerEntryInput[] | (() => readonly LedgerEntryInput[]),
    options: AppendOptions = {},
  ): Promise<LedgerEntry[]> {
    const entries = await this.ledger.appendSoon(inputs, options);
    await this.syncState();
    return entries;
  }

  /**
   * Applies ledger entries this process has not applied yet, in order. Other processes (the CLI,
   * other replicas) append to the same ledger; the server calls this periodically to follow them.
   */
  syncState(): Promise<void> {
    const run = this.syncing.then(async () => {
      for (;;) {
        const batch = this.ledger.entriesAfter(this.appliedSeq, 500);
        if (batch.length === 0) return;
        for (const entry of batch) {
          await this.state.apply(stateChangesFor(entry));
          for (const listener of this.entryListeners) listener(entry);
          if (entry.type === 'agent.registered' && entry.agentId) {
            this.agentIds.add(entry.agentId);
            for (const login of entry.payload.identities.githubLogins)
              this.logins.set(login.toLowerCase(), entry.agentId);
          }
          this.appliedSeq = entry.seq;
        }
      }
    });
    // A failed sync (state store down) must not block the next one.
    this.syncing = run.catch(() => undefined);
    return run;
  }

  /**
   * Rebuilds the derived state in the store from the newest checkpoint plus the ledger after it.
   * Coordination keys (locks, heartbeats) are left as they are.
   */
  async restoreState(): Promise<{ checkpointId: string | null; headSeq: number }> {
    const latest = this.checkpoints.latest();
    const { state, head } = this.checkpoints.stateAtHead();
    await this.state.replaceDerived(state);
    await this.restoreLocks();
    await this.state.markRestored();
    this.logins.clear();
    for (const agent of Object.values(state.agents)) {
      this.agentIds.add(agent.id);
      for (const login of agent.identities.githubLogins) this.logins.set(login.toLowerCase(), agent.id);
    }
    this.appliedSeq = head.seq;
    await this.syncState();
    await this.applyQueuedSafetyActions();
    return { checkpointId: latest?.checkpointId ?? null, headSeq: this.appliedSeq };
  }

  /**
   * Revocations and pauses waiting in the safety journal hold in the state store too: a store
   * rebuilt from a ledger that does not have them yet must not quietly undo them.
   */
  async applyQueuedSafetyActions(): Promise<void> {
    for (const action of this.journal?.pending() ?? []) await this.state.apply(safetyStateChanges(action));
  }

  /**
   * Execution locks the ledger says are still held, put back with their fencing tokens: a store
   * that lost them (a restarted Redis) must not hand the same lock, or the same token, to another.
   */
  private async restoreLocks(): Promise<void> {
    for (const lock of locksToRestore(lockHistory(this.ledger), Date.now())) {
      await this.state.restoreLock(
        lock.lockKey,
        lock.holder ? `${lock.holder}:restored` : 'none',
        lock.token,
        lock.ttlMs,
      );
    }
  }

  async registerAgent(
    input: RegisterAgentInput,
    actor: string,
  ): Promise<{ agent: AgentRecord; token: string }> {
    const id = agentIdSchema.safeParse(input.id);
    if (!id.success)
      throw new UserError(
        'agent_id_invalid',
        `"${input.id}" is not a valid agent id: ${id.error.issues[0]!.message}`,
      );
    if (this.agentRegistered(input.id)) {
      throw new UserError(
        'agent_exists',
        `agent ${input.id} is already registered; see \`agov agents show ${input.id}\``,
      );
    }
    const token = newAgentToken(input.id);
    await this.record([
      {
        type: 'agent.registered',
        agentId: input.id,
        actor,
        payload: {
          name: input.name ?? input.id,
          owner: input.owner ?? null,
          tier: input.tier,
          identities: {
            githubLogins: input.identities?.githubLogins ?? [],
            trailers: input.identities?.trailers ?? [],
          },
          tokenHash: hashAgentToken(token),
        },
      },
    ]);
    const agent = await this.state.getAgent(input.id);
    if (!agent) throw new Error(`agent ${input.id} was recorded but is missing from the state store`);
    return { agent, token };
  }

  async rotateToken(agentId: string, actor: string): Promise<string> {
    if (!this.agentRegistered(agentId)) throw unknownAgent(agentId);
    const token = newAgentToken(agentId);
    await this.record([
      { type: 'agent.token_rotated', agentId, actor, payload: { tokenHash: hashAgentToken(token) } },
    ]);
    return token;
  }

  /** Registers the agents the organisation config declares and the ledger does not know yet. */
  async registerConfiguredAgents(): Promise<string[]> {
    const added: string[] = [];
    for (const a of this.config.agents) {
      if (this.agentRegistered(a.id)) continue;
      await this.registerAgent(
        {
          id: a.id,
          name: a.name,
          owner: a.owner,
          tier: a.tier,
          identities: { githubLogins: a.github_logins, trailers: a.trailers },
        },
        'config',
      );
      added.push(a.id);
    }
    return added;
  }

  /**
   * Records a PR decision, the violations it found with their consequences, and the calls it
   * causes (the check run), in one ledger transaction; then brings the state store along.
   */
  async recordDecision(
    proposed: DecisionRecord,
    trigger: string,
    options: AppendOptions | ((record: DecisionRecord) => AppendOptions) = {},
  ): Promise<LedgerEntry[]> {
    const entries = this.ledger.atomically(() => {
      // Re-checked inside the write transaction: an agent revoked or suspended while its PR was being
      // evaluated does not get an allow recorded after its revocation.
      let record = proposed;
      const status = record.agentId ? this.statusInLedger(record.agentId) : null;
      if (record.outcome === 'allow' && status !== null && status !== 'active') {
        const summary = `Denied: agent ${record.agentId} was ${status} while this PR was being evaluated`;
        record = {
          ...record,
          outcome: 'deny',
          summary,
          rules: [...record.rules, { rule: 'agent_status', status: 'fire', summary }],
          violations: [],
        };
      }
      const appendOptions = typeof options === 'function' ? options(record) : options;
      const decisionEntry: LedgerEntryInput = {
        type: 'decision.recorded',
        agentId: record.agentId,
        actor: 'github',
        payload: {
          repository: record.repository,
          number: record.number,
          headSha: record.headSha,
          outcome: record.outcome,
          summary: record.summary,
          tier: record.tier,
          policyVersion: record.policyVersion,
          diffHash: record.diffHash,
          ...(record.inputs ? { inputs: record.inputs } : {}),
          trigger,
          rules: record.rules,
          ...(record.author ? { author: record.author } : {}),
          ...(record.installationId ? { installationId: record.installationId } : {}),
          ...(record.title !== undefined ? { title: record.title } : {}),
          ...(record.url !== undefined ? { url: record.url } : {}),
          ...(record.gates ? { gates: record.gates } : {}),
          ...(record.files ? { files: record.files } : {}),
          ...(record.attribution ? { attribution: record.attribution } : {}),
        },
      };
      const source = `github:${record.repository}#${record.number}@${record.headSha}`;
      return record.agentId
        ? recordViolations(
            this.ledger,
            this.config,
            record.agentId,
            record.violations,
            source,
            'github',
            new Date(),
            {
              entries: [decisionEntry],
              options: appendOptions,
            },
          )
        : this.ledger.appendAll([decisionEntry], appendOptions);
    });
    await this.syncState();
    return entries;
  }

  /** Violations found outside a decision (CI failures, missed heartbeats), with their consequences. */
  async recordViolation(
    agentId: string,
    report: ViolationReport,
    source: string,
    actor: string,
  ): Promise<LedgerEntry[]> {
    const entries = recordViolations(this.ledger, this.config, agentId, [report], source, actor, new Date());
    await this.syncState();
    return entries;
  }

  /**
   * With `budgets.recovery: window`, resumes agents suspended for an exhausted budget once their
   * usage in the window fell below the limit again. Returns the agents resumed.
   */
  async recoverBudgets(now = new Date()): Promise<string[]> {
    if (this.config.budgets.recovery !== 'window') return [];
    const windowStart = new Date(now.getTime() - this.config.budgets.window_hours * 3600_000).toISOString();
    const resumed = this.ledger.atomically(() => {
      const ids: string[] = [];
      for (const agentId of suspendedForExhaustedBudget(this.ledger)) {
        const used = budgetUsed(this.ledger, agentId, windowStart);
        if (used >= this.config.budgets.limit) continue;
        this.ledger.append({
          type: 'agent.status_changed',
          agentId,
          actor: 'budget-window',
          payload: {
            from: 'suspended',
            to: 'active',
            reason: `error budget recovered: ${used} of ${this.config.budgets.limit} used in the window`,
          },
        });
        ids.push(agentId);
      }
      return ids;
    });
    await this.syncState();
    return resumed;
  }

  /** The agent a GitHub login belongs to, from memory: for the webhook path, which must not wait. */
  agentIdForLogin(login: string): string | null {
    return this.logins.get(login.toLowerCase()) ?? null;
  }

  /**
   * The agent a PR belongs to, and how strongly. Authenticated: GitHub vouches for it (the author
   * is one of the agent's logins; with `trailers_verified`, a trailer on a commit GitHub verified
   * with the agent's email). Claimed: only a trailer anyone can write says so.
   */
  async identifyAgent(
    login: string,
    commits: readonly CommitClaim[],
  ): Promise<{ agent: AgentRecord; attribution: Attribution } | null> {
    const agents = await this.state.listAgents();
    const lower = login.toLowerCase();
    const byLogin = agents.find((a) => a.identities.githubLogins.some((l) => l.toLowerCase() === lower));
    if (byLogin)
      return {
        agent: byLogin,
        attribution: { strength: 'authenticated', via: `author ${login}`, author: login },
      };
    // Every agent the commits claim, and whether GitHub vouches for the claim.
    const claims: { agent: AgentRecord; trailer: string; verified: boolean }[] = [];
    for (const commit of commits) {
      for (const trailer of commit.coAuthors) {
        const email = emailOf(trailer);
        const agent = agents.find((a) => a.identities.trailers.some((t) => emailOf(t) === email));
        if (!email || !agent) continue;
        const verified =
          this.config.agents.find((a) => a.id === agent.id)?.trailers_verified === true &&
          commit.verified &&
          commit.authorEmail?.toLowerCase() === email;
        claims.push({ agent, trailer, verified });
      }
    }
    // A claim may only make the gate stricter: of several, the strictest decides (an agent that
    // is not active, then the lowest tier), whatever order the commits come in.
    const strictest = claims.sort(
      (x, y) =>
        Number(x.agent.status === 'active') - Number(y.agent.status === 'active') ||
        TIER_IDS.indexOf(x.agent.tier) - TIER_IDS.indexOf(y.agent.tier) ||
        Number(y.verified) - Number(x.verified),
    )[0];
    if (strictest)
      return {
        agent: strictest.agent,
        attribution: {
          strength: strictest.verified ? 'authenticated' : 'claimed',
          via: `${strictest.verified ? 'verified commit' : 'trailer'} ${strictest.trailer}`,
          author: login,
        },
      };
    return null;
  }

  /** The directory of people, with every registered agent's logins and id marked as agents. */
  directory(): Directory {
    return directoryOf([...this.config.approvers, ...this.config.people], this.agentIdentities());
  }

  /** Every registered agent's id and GitHub logins: none of them ever approves anything. */
  agentIdentities(): string[] {
    return [...this.logins.keys(), ...this.agentIds];
  }

  /**
   * When the PR began to wait for people at this head commit: the first decision at it that needed
   * an approval (or now, for the decision about to be recorded). Deadlines run from here.
   */
  waitingSince(repository: string, number: number, headSha: string): string | null {
    return waitingSince(this.ledger, repository, number, headSha);
  }

  /** Every approval and rejection recorded for a PR, oldest first. */
  receiptsFor(repository: string, number: number): ApprovalReceipt[] {
    return approvalReceipts(this.ledger, repository, number);
  }

  /**
   * Who sits on the council now: the named members and, with a Slack user group, its members as last
   * read into the ledger (`council.membership`). Followed incrementally from the ledger.
   */
  councilMembers(): string[] {
    const council = this.config.council;
    if (!council) return [];
    if (!council.slack_usergroup) return council.members;
    const head = this.ledger.head().seq;
    if (head > this.councilRead.seq) {
      const group = councilMembershipBetween(this.ledger, this.councilRead.seq, head);
      this.councilRead = { seq: head, group: group ?? this.councilRead.group };
    }
    return [...new Set([...council.members, ...this.councilRead.group])].sort();
  }

  private councilRead: { seq: number; group: string[] } = { seq: 0, group: [] };

  /** The organisation config with the council's members as they stand now (for the pure core). */
  configWithCouncil(): OrgConfig {
    const council = this.config.council;
    if (!council?.slack_usergroup) return this.config;
    return { ...this.config, council: { ...council, members: this.councilMembers() } };
  }

  /**
   * PRs whose newest decision waits for people past the deadline of one of its gates and was made
   * before that deadline: the core must decide them again now (expiry rejects or escalates).
   */
  waitingPastDeadline(now: Date): { repository: string; number: number; installationId: number }[] {
    const due: { repository: string; number: number; installationId: number }[] = [];
    for (const row of newestDecisionsWaiting(this.ledger)) {
      const p = row.payload;
      const hours = Math.min(...(p.gates ?? []).map((g) => g.expiryHours));
      const since = this.waitingSince(row.repository, row.number, row.headSha);
      if (!since || !Number.isFinite(hours) || p.installationId === undefined) continue;
      const deadline = Date.parse(since) + hours * 3600_000;
      if (now.getTime() >= deadline && Date.parse(row.ts) < deadline)
        due.push({ repository: row.repository, number: row.number, installationId: p.installationId });
    }
    return due;
  }

  /** Whether the newest decision on a PR already says this: same head, outcome and summary. */
  sameAsLatest(
    repository: string,
    number: number,
    d: { headSha: string; outcome: string; summary: string },
  ): boolean {
    const latest = this.latestDecision(repository, number);
    return latest?.headSha === d.headSha && latest.outcome === d.outcome && latest.summary === d.summary;
  }

  /** The newest decision on a PR, if any. */
  latestDecision(repository: string, number: number): LatestDecision | null {
    return latestDecision(this.ledger, repository, number);
  }

  /**
   * The agent's status as the ledger records it (null for an unknown agent). Read inside a write
   * transaction, it cannot change before that transaction ends: the re-check that keeps an allow,
   * a token or a promotion from landing after a revocation.
   */
  statusInLedger(agentId: string): AgentStatus | null {
    return agentStatus(this.ledger, agentId);
  }

  /** From the ledger itself, so it holds even while the state store is down or behind. */
  agentRegistered(agentId: string): boolean {
    return agentStatus(this.ledger, agentId) !== null;
  }
}

/** What one commit of a PR says about who wrote it, and whether GitHub vouches for it. */
export interface CommitClaim {
  coAuthors: string[];
  verified: boolean;
  authorEmail: string | null;
}

export interface DecisionRecord {
  agentId: string | null;
  repository: string;
  number: number;
  headSha: string;
  outcome: LedgerPayload<'decision.recorded'>['outcome'];
  summary: string;
  tier: TierId | null;
  policyVersion: string | null;
  diffHash: string | null;
  /** What the verdict depended on, as `evaluationInputsKey` digests it (agent PRs only). */
  inputs?: string;
  rules: { rule: string; status: string; summary: string }[];
  violations: ViolationReport[];
  author?: string;
  installationId?: number;
  attribution?: Attribution;
  title?: string;
  url?: string;
  /** The gates still waiting, as the tally needs them (the Slack card tallies with the same rule). */
  gates?: (GateRule & Partial<Pick<GateStatus, 'tally'>>)[];
  files?: {
    path: string;
    previousPath: string | null;
    status: string;
    additions: number;
    deletions: number;
  }[];
}

/** The decision as the ledger stores it: every rule that did not simply pass, with its reason. */
export function decisionRecord(decision: Decision, facts: PullRequestFacts): DecisionRecord {
  return {
    title: facts.title,
    url: facts.url,
    gates: decision.gates
      .filter((g) => !g.satisfied)
      .map(({ approvedBy: _a, rejectedBy: _r, satisfied: _s, ...gate }) => gate),
    attribution: decision.attribution,
    author: facts.author,
    files: facts.files.map((f) => ({
      path: f.path,
      previousPath: f.previousPath,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
    })),
    agentId: decision.agentId,
    repository: decision.repository,
    number: decision.number,
    headSha: decision.headSha,
    outcome: decision.outcome,
    summary: decision.summary,
    tier: decision.tier,
    policyVersion: decision.policyVersion,
    diffHash: decision.diffHash,
    rules: decision.rules
      .filter((r) => r.status !== 'pass')
      .map((r) => ({ rule: r.rule, status: r.status, summary: r.summary })),
    violations: decision.violations.map((v) => ({ type: v.type, details: v.details })),
  };
}

function emailOf(trailer: string): string {
  return /<([^>]+)>/.exec(trailer)?.[1]?.toLowerCase() ?? '';
}

export function unknownAgent(agentId: string): UserError {
  return new UserError('agent_unknown', `no agent "${agentId}" is registered; see \`agov agents list\``);
}
