import type { InvariantResult } from './invariants/invariant.js';

/**
 * What a run can break: Redis, GitHub, Slack, Vault, the whole service (every replica SIGKILLed),
 * one replica (SIGKILLed, started again later) and the PostgreSQL server (stopped hard, restarted).
 */
export const CHAOS_FAULTS = ['redis', 'github', 'slack', 'vault', 'service', 'replica', 'postgres'] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

export const CHAOS_DEFECTS = ['no-fencing', 'lease-in-redis'] as const;
export type ChaosDefect = (typeof CHAOS_DEFECTS)[number];

export const CHAOS_DATABASES = ['sqlite', 'postgres'] as const;
export type ChaosDatabase = (typeof CHAOS_DATABASES)[number];

export interface ChaosOptions {
  agents: number;
  durationMs: number;
  seed: number;
  faults: ChaosFault[];
  /** Service processes sharing the ledger and Redis (default 1); more than one needs PostgreSQL. */
  replicas?: number;
  /** The ledger's engine (default SQLite). */
  database?: ChaosDatabase;
  /**
   * A deliberately broken build, to show the run catches it: lock releases ignore fencing
   * (`no-fencing`), or the periodic-work lease is kept in Redis, which a restart empties while a
   * replica still holds it (`lease-in-redis`).
   */
  defect?: ChaosDefect;
  print?: (line: string) => void;
}

export interface ChaosReport {
  ok: boolean;
  invariants: InvariantResult[];
  stats: Record<string, number>;
}

/** The faults a run on this set-up can inject when none are named: every one that applies. */
export function defaultFaults(replicas: number, database: ChaosDatabase): ChaosFault[] {
  return CHAOS_FAULTS.filter(
    (f) => (f !== 'replica' || replicas > 1) && (f !== 'postgres' || database === 'postgres'),
  );
}

/** Why these options cannot make a run, in one line, or null. */
export function chaosSetUpProblem(
  options: Pick<ChaosOptions, 'faults' | 'replicas' | 'database' | 'defect'>,
): string | null {
  const replicas = options.replicas ?? 1;
  const database = options.database ?? 'sqlite';
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 4)
    return '--replicas is a whole number from 1 to 4';
  if (replicas > 1 && database !== 'postgres')
    return 'several replicas share one PostgreSQL ledger: add --database postgres';
  if (options.faults.includes('replica') && replicas < 2)
    return 'the replica fault needs --replicas 2 or more (with one, use the service fault)';
  if (options.faults.includes('postgres') && database !== 'postgres')
    return 'the postgres fault needs --database postgres';
  if (options.defect === 'lease-in-redis' && replicas < 2)
    return 'the lease-in-redis defect needs --replicas 2 or more';
  return null;
}
