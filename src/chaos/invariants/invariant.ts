import type { LedgerEntry } from '../../core/ledger-entries.js';
import type { GithubStandIn } from '../../demo/github-stand-in.js';
import type { SlackStandIn } from '../../demo/slack-stand-in.js';
import type { VaultStandIn } from '../../demo/vault-stand-in.js';
import type { LedgerFacts } from '../chaos-ledger.js';

export interface InvariantResult {
  name: string;
  ok: boolean;
  count: number;
  detail: string;
}

/** A grant as an agent saw it: from the reply to the release request (or the TTL's earliest end). */
export interface LockInterval {
  key: string;
  agentId: string;
  start: number;
  end: number;
}

/** What the simulated agents saw the service answer. */
export interface Observed {
  /** Webhook deliveries the service acknowledged with a 2xx. */
  accepted: Set<string>;
  intervals: LockInterval[];
  /** Lifecycle events the service answered, with the ledger sequence it gave. */
  events: { eventId: string; agentId: string; seq: number }[];
  /** Preflight answers, with the ledger entry each named as its record. */
  preflights: { agentId: string; seq: number; decision: string }[];
  /** Vault token accessors each agent was handed. */
  vaultTokens: Map<string, string[]>;
}

export interface StandIns {
  github: GithubStandIn;
  slack?: SlackStandIn;
  vault?: VaultStandIn;
}

/** Periodic work as a replica did it: from its start to its end (or to the replica's SIGKILL). */
export interface PeriodicSpan {
  replica: number;
  what: string;
  fence: number | null;
  start: number;
  end: number;
}

/** What an invariant is checked on: what the ledger holds (read once), the stand-ins, the agents' view. */
export interface InvariantInput {
  facts: LedgerFacts;
  rows: LedgerEntry[];
  /** Periodic work on each replica, when the run had more than one. */
  periodic: PeriodicSpan[] | null;
  standIns: StandIns;
  observed: Observed;
}

/** One thing that must hold after any run; null when it does not apply (no Vault in the run). */
export type Invariant = (input: InvariantInput) => InvariantResult | null;
