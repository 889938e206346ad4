import type { AgentRecord } from '../core/agent.js';
import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import type { OrgConfig } from '../core/org-config.js';
import type { Directory } from '../core/people.js';
import type { ApprovalReceipt, Attribution } from '../core/policy/decision.js';
import type { AsyncAppendOptions, AsyncLedger, DecideEntries } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { LatestDecision } from '../ledger/queries/decisions.js';
import type { SafetyJournal } from '../ledger/safety-journal.js';
import type { AsyncCheckpoints } from '../ledger/store-checkpoints.js';
import { processClaimer } from '../platform/claimer.js';
import { type Clock, systemClock } from '../platform/clock.js';
import type { StateStore } from '../state/state-store.js';
import { AgentRegistry, type RegisterAgentInput } from './agent-registry.js';
import { Council } from './council.js';
import type { DecisionRecord } from './decision-record.js';
import { type DecisionOutbox, Decisions, type WaitingPullRequest } from './decisions.js';
import { type CommitClaim, identifyAgent } from './identify-agent.js';
import { KnownAgents } from './known-agents.js';
import type { ViolationReport } from './record-violations.js';
import { StateSync } from './state-sync.js';
import { Violations } from './violations.js';

export interface GovernanceDeps {
  /** The ledger, on either engine (SQLite's adapter over its file, or PostgreSQL). */
  store: AsyncLedger;
  state: StateStore;
  checkpoints: AsyncCheckpoints;
  config: OrgConfig;
  /** Where revocations and pauses wait while the ledger cannot be written (none in memory). */
  journal?: SafetyJournal | null;
  /** "Now" for everything governance decides (the system clock unless a test passes its own). */
  clock?: Clock;
  /**
   * The name this process claims shared work under (outbox calls, stored deliveries): the same for
   * every start of the same replica, so a restart takes back at once what it held (default: a name
   * of this process's own).
   */
  claimer?: string;
}

/**
 * The use cases over one ledger, one state store and one organisation config, composed once. Every
 * change is written to the ledger first (the truth) and then applied to the state store (derived).
 * Each job is its own part (`sync`, `agents`, `known`, `decisions`, `violations`, `council`); the
 * methods here are the surface the adapters call, each handing over to its part.
 */
export class Governance {
  /** The ledger, on either engine: every read and write of the service goes through it. */
  readonly store: AsyncLedger;
  readonly state: StateStore;
  readonly checkpoints: AsyncCheckpoints;
  readonly config: OrgConfig;
  readonly journal: SafetyJournal | null;
  readonly clock: Clock;
  readonly claimer: string;
  readonly known: KnownAgents;
  readonly sync: StateSync;
  readonly agents: AgentRegistry;
  readonly decisions: Decisions;
  readonly violations: Violations;
  readonly council: Council;

  constructor(deps: GovernanceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.claimer = deps.claimer ?? processClaimer();
    this.store = deps.store;
    this.state = deps.state;
    this.checkpoints = deps.checkpoints;
    this.config = deps.config;
    this.journal = deps.journal ?? null;
    const { store, state, config, clock } = this;
    this.known = new KnownAgents(config);
    const { checkpoints, journal } = this;
    this.sync = new StateSync({ store, state, checkpoints, journal, clock, known: this.known });
    this.agents = new AgentRegistry({ store, state, config, sync: this.sync });
    this.decisions = new Decisions({ store, config, clock, sync: this.sync, registry: this.agents });
    this.violations = new Violations({ store, config, clock, sync: this.sync });
    this.council = new Council(store, config);
  }

  onEntry(listener: (entry: LedgerEntry) => void): void {
    this.sync.onEntry(listener);
  }

  /** Entries, or a decision of them (see `StateSync.record`), appended and applied to the state store. */
  record(
    inputs: readonly LedgerEntryInput[] | DecideEntries,
    options: AsyncAppendOptions = {},
  ): Promise<LedgerEntry[]> {
    return this.sync.record(inputs, options);
  }

  syncState(): Promise<void> {
    return this.sync.syncState();
  }

  restoreState(): Promise<{ checkpointId: string | null; headSeq: number }> {
    return this.sync.restoreState();
  }

  registerAgent(input: RegisterAgentInput, actor: string): Promise<{ agent: AgentRecord; token: string }> {
    return this.agents.register(input, actor);
  }

  rotateToken(agentId: string, actor: string): Promise<string> {
    return this.agents.rotateToken(agentId, actor);
  }

  registerConfiguredAgents(): Promise<string[]> {
    return this.agents.registerConfigured();
  }

  /** The agent's status in the ledger; through a decision's `view.reader`, as its entries will extend it. */
  statusInLedger(agentId: string, reader?: LedgerReader): Promise<AgentStatus | null> {
    return this.agents.statusInLedger(agentId, reader);
  }

  async identifyAgent(
    login: string,
    commits: readonly CommitClaim[],
  ): Promise<{ agent: AgentRecord; attribution: Attribution } | null> {
    return identifyAgent(await this.state.listAgents(), this.config, login, commits);
  }

  agentIdForLogin(login: string): string | null {
    return this.known.agentIdForLogin(login);
  }

  agentIdentities(): string[] {
    return this.known.identities();
  }

  directory(): Directory {
    return this.known.directory();
  }

  recordDecision(
    proposed: DecisionRecord,
    trigger: string,
    options: AsyncAppendOptions | DecisionOutbox = {},
    unchanged?: (latest: LatestDecision | null) => boolean,
  ): Promise<LedgerEntry[]> {
    return this.decisions.record(proposed, trigger, options, unchanged);
  }

  latestDecision(repository: string, number: number): Promise<LatestDecision | null> {
    return this.decisions.latest(repository, number);
  }

  sameAsLatest(
    repository: string,
    number: number,
    d: { headSha: string; outcome: string; summary: string },
  ): Promise<boolean> {
    return this.decisions.sameAsLatest(repository, number, d);
  }

  waitingSince(repository: string, number: number, headSha: string): Promise<string | null> {
    return this.decisions.waitingSince(repository, number, headSha);
  }

  receiptsFor(repository: string, number: number): Promise<ApprovalReceipt[]> {
    return this.decisions.receiptsFor(repository, number);
  }

  waitingPastDeadline(now: Date): Promise<WaitingPullRequest[]> {
    return this.decisions.waitingPastDeadline(now);
  }

  recordViolation(
    agentId: string,
    report: ViolationReport,
    source: string,
    actor: string,
  ): Promise<LedgerEntry[]> {
    return this.violations.record(agentId, report, source, actor);
  }

  recoverBudgets(now?: Date): Promise<string[]> {
    return this.violations.recoverBudgets(now);
  }

  configWithCouncil(): Promise<OrgConfig> {
    return this.council.configWithCouncil();
  }
}
