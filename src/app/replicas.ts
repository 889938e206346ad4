/**
 * Several `agov serve` processes on one state store: each announces itself, refuses to start beside
 * a replica it cannot share the work with, and runs the shared periodic work (reconciliation sweep,
 * checkpoints, heartbeat sweeper, approval expiry, watchers, the council's Slack group) only while
 * it holds the periodic-work lease. A replica that dies stops renewing, and another takes the lease
 * within its time to live.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { AnnouncedReplica, PgReplicas } from '../ledger/postgres/pg-replicas.js';
import { UserError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { PeriodicGate } from '../platform/periodic-gate.js';
import type { ReplicaInfo, StateStore } from '../state/state-store.js';
import { later, twinReason, type Unsafe, unsafeBeside } from './replica-checks.js';
import { processIsRunning, type ServeMarker, sameLedger } from './serve-marker.js';

/** The lease every replica competes for. */
export const PERIODIC_WORK = 'periodic-work';

/** A piece of periodic work starting or ending on this replica, under the lease's fence. */
export interface PeriodicWorkEvent {
  what: string;
  phase: 'start' | 'end';
  fence: number | null;
  at: number;
}

/**
 * Which ledger a replica serves: a SQLite file, or a PostgreSQL database and where on its host the
 * replica is (the port it listens on).
 */
export type ReplicaLedger = string | { postgres: string; port: string };

/**
 * This process as the others see it. The id is the same for every start of the same installation
 * (host and ledger; on PostgreSQL, where several replicas may share a host, also the port), so a
 * restarted replica takes its own place back instead of meeting itself.
 */
export function thisReplica(
  on: ReplicaLedger,
  startedAt: Date,
  host = hostname(),
  pid = process.pid,
): ReplicaInfo {
  const ledger =
    typeof on !== 'string'
      ? `postgres:${on.postgres}`
      : on === ':memory:'
        ? `sqlite::memory:${pid}`
        : `sqlite:${resolve(on)}`;
  const place = typeof on === 'string' ? ledger : `${ledger}\n${on.port}`;
  const id = createHash('sha256').update(`${host}\n${place}`).digest('hex').slice(0, 16);
  return { id, host, pid, ledger, startedAt: startedAt.toISOString() };
}

/**
 * Why `me` must not start beside the replicas announced, or null. One ledger file serves one
 * process; replicas on their own SQLite files sharing one Redis would each hold a different truth
 * (until the PostgreSQL ledger, more than one replica is refused).
 */
export function replicaConflict(
  me: ReplicaInfo,
  announced: readonly ReplicaInfo[],
  isRunning: (pid: number) => boolean = processIsRunning,
): string | null {
  for (const other of announced) {
    // Replicas on one PostgreSQL ledger share the work: one chain, claims, the periodic lease.
    if (other.id !== me.id && other.ledger === me.ledger && me.ledger.startsWith('postgres:')) continue;
    if (other.id === me.id) {
      if (other.pid === me.pid || other.host !== me.host || !isRunning(other.pid)) continue;
      return sameLedger(me, other);
    }
    return (
      `another replica (${other.host}, pid ${other.pid}, ledger ${other.ledger}) uses this state store; ` +
      'replicas on their own ledgers would each keep a different record. Run several replicas on one ' +
      'PostgreSQL ledger (DATABASE_URL), or give each its own REDIS_URL'
    );
  }
  return null;
}

/** The replicas announced in a PostgreSQL ledger, and whether this one shares its state (REDIS_URL). */
export interface LedgerReplicas {
  registry: Pick<
    PgReplicas,
    'announce' | 'others' | 'withdraw' | 'acquireLease' | 'releaseLease' | 'announcedAs'
  >;
  sharedState: boolean;
}

/**
 * Announces this replica until it stops, and holds the periodic-work lease while it can: in the
 * ledger database on PostgreSQL (durable, like the ledger), else in the state store.
 */
export class ReplicaPresence {
  /** Told when a piece of periodic work starts and ends here (the chaos run checks no two overlap). */
  onPeriodicWork: ((event: PeriodicWorkEvent) => void) | null = null;
  private heldUntil = 0;
  private fence: number | null = null;
  private holder: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private joined = false;
  /** The lease's owner: this process. A restarted replica waits for its old lease to run out. */
  private readonly owner: string;

  constructor(
    private readonly store: StateStore,
    readonly me: ReplicaInfo,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly marker: ServeMarker | null = null,
    private readonly ledgerReplicas: LedgerReplicas | null = null,
  ) {
    this.owner = `${me.id}:${me.pid}`;
  }

  /** Refuses to start beside a replica it cannot share the work with; then announces itself. */
  async join(): Promise<void> {
    this.marker?.claim();
    const conflict = replicaConflict(this.me, await this.store.listReplicas()) ?? (await this.unsafeOnJoin());
    if (conflict) {
      this.marker?.release();
      throw new UserError('replica_conflict', conflict);
    }
    this.joined = true;
    await this.renew();
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 4)));
    this.timer.unref();
  }

  /**
   * True while this replica holds the lease, with a margin of a quarter of its time to live: it
   * stops before another replica could take it over.
   */
  runsPeriodicWork(): boolean {
    return this.now() < this.heldUntil;
  }

  /** The gate for the shared periodic work (see PeriodicGate). */
  readonly periodic: PeriodicGate = async (what, work) => {
    if (!this.runsPeriodicWork()) return;
    const fence = this.fence;
    this.onPeriodicWork?.({ what, phase: 'start', fence, at: this.now() });
    try {
      await work();
    } finally {
      this.onPeriodicWork?.({ what, phase: 'end', fence, at: this.now() });
    }
  };

  status(): { leader: boolean; fence: number | null; holder: string | null } {
    const leader = this.runsPeriodicWork();
    return { leader, fence: leader ? this.fence : null, holder: leader ? this.owner : this.holder };
  }

  private unsafeBeside(): Promise<Unsafe | null> {
    return this.ledgerReplicas
      ? unsafeBeside(this.me, this.ledgerReplicas, this.store, this.joined)
      : Promise.resolve(null);
  }

  /**
   * At start, this replica is the one that stops. A Redis that has just restarted empty lists the
   * others only once they announce again (within a quarter of the lease): asked twice before a
   * missing replica counts.
   */
  private async unsafeOnJoin(): Promise<string | null> {
    // This replica's own name announced by another process: this one's before a restart (not
    // renewed any more), or a live twin (renewed while we look).
    const seen = await this.twin();
    if (seen) {
      await new Promise((r) => setTimeout(r, Math.floor(this.ttlMs / 2)));
      const again = await this.twin();
      if (again && again.seenUntil !== seen.seenUntil) return twinReason(again);
    }
    const first = await this.unsafeBeside();
    if (first?.kind !== 'missing') return first?.reason ?? null;
    await new Promise((r) => setTimeout(r, Math.floor(this.ttlMs / 2)));
    return (await this.unsafeBeside())?.reason ?? null;
  }

  /**
   * Resolves with the reason once this replica finds, at two renewals in a row, that it must not
   * go on serving beside the others (`agov serve` then stops and exits 2).
   */
  private becameUnsafe: (reason: string) => void = () => {};
  // Declared after becameUnsafe: field initialisers run in order, and a later one would undo this.
  readonly unsafe: Promise<string> = new Promise((resolve) => {
    this.becameUnsafe = resolve;
  });
  private suspect = false;

  /** Another process announced under this replica's own id, if any. */
  private async twin(): Promise<(AnnouncedReplica & { seenUntil: string }) | null> {
    if (!this.ledgerReplicas) return null;
    const row = await this.ledgerReplicas.registry.announcedAs(this.me.id);
    return row && (row.pid !== this.me.pid || row.startedAt !== this.me.startedAt) ? row : null;
  }

  private async checkStillSafe(twin: AnnouncedReplica | null): Promise<void> {
    const unsafe = twin
      ? { reason: twinReason(twin), mine: later(this.me, twin) }
      : await this.unsafeBeside().catch(() => null);
    const mine = unsafe?.mine ?? false;
    if (mine && this.suspect) {
      this.logger.error({}, `${unsafe!.reason}; this replica stops`);
      this.becameUnsafe(unsafe!.reason);
    }
    this.suspect = mine;
  }

  /** Announces again and takes or renews the lease; a store that cannot answer keeps nothing. */
  async renew(): Promise<void> {
    const was = this.runsPeriodicWork();
    if (this.ledgerReplicas) {
      const { registry, sharedState } = this.ledgerReplicas;
      const { id, host, pid, startedAt } = this.me;
      // Looked at before announcing: a twin's renewal since ours shows now, not after we overwrite it.
      const twin = this.joined ? await this.twin().catch(() => null) : null;
      await registry
        .announce({ id, host, pid, startedAt, sharedState }, this.ttlMs)
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'cannot announce this replica in the ledger'),
        );
      if (this.joined) await this.checkStillSafe(twin);
    }
    try {
      await this.store.announceReplica(this.me, this.ttlMs);
      const lease = await this.leases().acquireLease(PERIODIC_WORK, this.owner, this.ttlMs);
      if (lease.held) {
        this.heldUntil = lease.expiresAt - Math.floor(this.ttlMs / 4);
        if (!was || lease.fence !== this.fence)
          this.logger.info({ fence: lease.fence }, 'this replica runs the periodic work');
        this.fence = lease.fence;
        this.holder = this.owner;
      } else {
        this.heldUntil = 0;
        this.holder = lease.holder;
        if (was) this.logger.warn({ holder: lease.holder }, 'the periodic work moved to another replica');
      }
    } catch (error) {
      if (this.now() >= this.heldUntil && was)
        this.logger.warn({ err: error }, 'cannot renew the periodic-work lease; periodic work paused');
    }
  }

  private leases(): Pick<StateStore, 'acquireLease' | 'releaseLease'> {
    return this.ledgerReplicas?.registry ?? this.store;
  }

  /** Withdraws the announcement and gives the lease up, so another replica takes it at once. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.heldUntil = 0;
    // A replica refused at start leaves the announcement of the one it met alone.
    if (!this.joined) return;
    this.joined = false;
    this.marker?.release();
    await this.leases()
      .releaseLease(PERIODIC_WORK, this.owner)
      .catch(() => undefined);
    await this.store.withdrawReplica(this.me.id).catch(() => undefined);
    await this.ledgerReplicas?.registry.withdraw(this.me.id).catch(() => undefined);
  }
}
