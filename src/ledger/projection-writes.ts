/**
 * The row changes of the projection tables, as values: what the projectors (projectors.ts) decide
 * an entry implies, with no statement attached. Each engine's statement layer runs them: SQLite's
 * prepared statements (projection-statements.ts), PostgreSQL's (postgres/pg-projection-writes.ts).
 */

/** The arguments of each kind of write, in the order of the columns they fill. */
export interface ProjectionWriteArgs {
  action: [agentId: string, seq: number, type: string, ts: string, actor: string];
  metricsInsert: [
    agentId: string,
    tier: string,
    status: string,
    registeredAt: string,
    tierSince: string,
    tokenHash: string | null,
  ];
  decision: [
    seq: number,
    repository: string,
    number: number,
    headSha: string,
    agentId: string | null,
    outcome: string,
    ts: string,
  ];
  approval: [
    seq: number,
    repository: string,
    number: number,
    approver: string,
    verdict: string,
    gate: string | null,
    headSha: string,
    diffHash: string,
    policyVersion: string,
    source: string,
    ts: string,
  ];
  violation: [
    seq: number,
    agentId: string,
    type: string,
    severity: string,
    consequence: string,
    budgetCharge: number,
    ts: string,
    source: string,
    details: string,
  ];
  promotion: [
    seq: number,
    agentId: string,
    kind: string,
    step: string,
    fromTier: string | null,
    toTier: string | null,
    actor: string,
    ts: string,
    reason: string,
  ];
  token: [tokenHash: string | null, agentId: string];
  status: [status: string, agentId: string];
  tier: [tier: string, since: string, agentId: string];
  /** `serious` is 1 for a high or critical violation (which moves last_serious_violation_at to `ts`), else 0. */
  violationCount: [serious: 0 | 1, ts: string, agentId: string];
  merged: [agentId: string];
}

export type ProjectionWriteKind = keyof ProjectionWriteArgs;

/** One row change: which kind of write, and its arguments. */
export type ProjectionWrite = {
  [K in ProjectionWriteKind]: { write: K; args: ProjectionWriteArgs[K] };
}[ProjectionWriteKind];

/** Builds a write, typed by its kind. */
export function write<K extends ProjectionWriteKind>(
  kind: K,
  ...args: ProjectionWriteArgs[K]
): ProjectionWrite {
  return { write: kind, args } as ProjectionWrite;
}

/**
 * The writes that add a row, with the table and columns their arguments fill (in order). The
 * others change `agent_metrics` rows in place: each engine writes those statements itself.
 */
export const PROJECTION_INSERTS = {
  action: { table: 'agent_actions', columns: ['agent_id', 'seq', 'type', 'ts', 'actor'] },
  metricsInsert: {
    table: 'agent_metrics',
    columns: ['agent_id', 'tier', 'status', 'registered_at', 'tier_since', 'token_hash'],
  },
  decision: {
    table: 'decisions',
    columns: ['seq', 'repository', 'number', 'head_sha', 'agent_id', 'outcome', 'ts'],
  },
  approval: {
    table: 'approvals',
    columns: [
      'seq',
      'repository',
      'number',
      'approver',
      'verdict',
      'gate',
      'head_sha',
      'diff_hash',
      'policy_version',
      'source',
      'ts',
    ],
  },
  violation: {
    table: 'violations',
    columns: [
      'seq',
      'agent_id',
      'type',
      'severity',
      'consequence',
      'budget_charge',
      'ts',
      'source',
      'details',
    ],
  },
  promotion: {
    table: 'promotions',
    columns: ['seq', 'agent_id', 'kind', 'step', 'from_tier', 'to_tier', 'actor', 'ts', 'reason'],
  },
} as const satisfies Partial<Record<ProjectionWriteKind, { table: string; columns: readonly string[] }>>;

export type ProjectionInsertKind = keyof typeof PROJECTION_INSERTS;
export type ProjectionUpdateKind = Exclude<ProjectionWriteKind, ProjectionInsertKind>;

export function isInsert(kind: ProjectionWriteKind): kind is ProjectionInsertKind {
  return Object.hasOwn(PROJECTION_INSERTS, kind);
}
