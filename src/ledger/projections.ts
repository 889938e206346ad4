import type { LedgerEntry, LedgerEntryType } from '../core/ledger-entries.js';
import type { LedgerDb } from './open-ledger-db.js';
import {
  type ProjectionStatements,
  prepareProjectionStatements,
  runProjectionWrite,
} from './projection-statements.js';
import { type ProjectionWrite, write } from './projection-writes.js';
import {
  AGENT_PROJECTORS,
  type AnyAgentProjector,
  type AnyPullRequestProjector,
  PULL_REQUEST_PROJECTORS,
  projectorMap,
} from './projectors.js';

/**
 * The tables `Projections` writes, each with its primary key: everything in them follows from the
 * chain, so verify rebuilds them from it and compares.
 */
export const PROJECTION_TABLES = [
  { table: 'agent_actions', key: ['agent_id', 'seq'] },
  { table: 'agent_metrics', key: ['agent_id'] },
  { table: 'violations', key: ['seq'] },
  { table: 'promotions', key: ['seq'] },
  { table: 'decisions', key: ['seq'] },
  { table: 'approvals', key: ['seq'] },
] as const;

export { AGENT_ACTIONS_FROM_CHAIN } from './stored-rows.js';

/**
 * The entry types `apply` does more for than an `agent_actions` row: those with a projector. Verify
 * replays only these through `apply` (with `actions: false`).
 */
export const PROJECTED_TYPES = [
  ...Object.keys(PULL_REQUEST_PROJECTORS),
  ...Object.keys(AGENT_PROJECTORS),
] as readonly LedgerEntryType[];

const byPullRequest = projectorMap<AnyPullRequestProjector>(PULL_REQUEST_PROJECTORS);
const byAgent = projectorMap<AnyAgentProjector>(AGENT_PROJECTORS);

/**
 * The row changes one entry implies, in order: the rows of its pull request, the `agent_actions`
 * row of an entry with an agent (unless `actions` is false), then the rows about its agent. Pure:
 * both engines' append paths and verify's replays write exactly these.
 */
export function projectEntry(
  entry: LedgerEntry,
  options: { actions: boolean } = { actions: true },
): ProjectionWrite[] {
  const writes = byPullRequest.get(entry.type)?.(entry) ?? [];
  const agentId = entry.agentId;
  if (!agentId) return writes;
  if (options.actions) writes.push(write('action', agentId, entry.seq, entry.type, entry.ts, entry.actor));
  const about = byAgent.get(entry.type)?.(entry, agentId);
  return about ? [...writes, ...about] : writes;
}

/**
 * Writes the query tables (`agent_actions`, `agent_metrics`, `violations`, `promotions`,
 * `decisions`, `approvals`) for one entry, through the projector of its type. Called inside the
 * append transaction, so projections never lag the chain. An agent's last activity is the newest
 * row of `agent_actions`; it is not copied into `agent_metrics`, so most appends touch only two pages.
 */
export class Projections {
  private readonly statements: ProjectionStatements;

  /**
   * `tables`: where the tables are, `main.` for the ledger's; verify replays into its own.
   * `actions: false` leaves `agent_actions` alone (verify checks it with AGENT_ACTIONS_FROM_CHAIN).
   */
  constructor(
    db: LedgerDb,
    tables = 'main.',
    private readonly options: { actions: boolean } = { actions: true },
  ) {
    this.statements = prepareProjectionStatements(db, tables);
  }

  apply(entry: LedgerEntry): void {
    for (const change of projectEntry(entry, this.options)) runProjectionWrite(this.statements, change);
  }
}
