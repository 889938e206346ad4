/**
 * One `agov serve` per SQLite ledger file on a host: `<ledger>.serve` names the process serving it.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { UserError } from '../platform/errors.js';
import type { ReplicaInfo } from '../state/state-store.js';

/** Whether process `pid` on this host is running (a signal 0 reaches it). */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The refusal of a second `agov serve` on one ledger. */
export function sameLedger(me: ReplicaInfo, other: Pick<ReplicaInfo, 'pid' | 'startedAt'>): string {
  return `another agov serve (pid ${other.pid}, started ${other.startedAt}) is running on this ledger (${me.ledger.replace(/^(sqlite|postgres):/, '')}); stop it first`;
}

/**
 * `<ledger>.serve` (mode 0600): the process serving this ledger file, so a second `agov serve` on
 * it is refused without Redis too (each would keep its own in-process locks and revocation
 * signals). A file left by a process that died names a process no longer running, and is taken.
 */
export class ServeMarker {
  private readonly path: string | null;

  constructor(
    ledgerPath: string,
    private readonly me: ReplicaInfo,
  ) {
    this.path = ledgerPath === ':memory:' ? null : `${ledgerPath}.serve`;
  }

  claim(isRunning: (pid: number) => boolean = processIsRunning): void {
    if (!this.path) return;
    const other = this.read();
    if (other && other.host === this.me.host && other.pid !== this.me.pid && isRunning(other.pid))
      throw new UserError('replica_conflict', sameLedger(this.me, other));
    const { host, pid, startedAt } = this.me;
    writeFileSync(this.path, `${JSON.stringify({ host, pid, startedAt })}\n`, { mode: 0o600 });
  }

  /** Removes the file if it is still this process's. */
  release(): void {
    if (this.path && this.read()?.pid === this.me.pid) unlinkSync(this.path);
  }

  private read(): Pick<ReplicaInfo, 'host' | 'pid' | 'startedAt'> | null {
    try {
      const v = JSON.parse(readFileSync(this.path!, 'utf8')) as Partial<ReplicaInfo>;
      return typeof v.pid === 'number' && typeof v.host === 'string'
        ? { host: v.host, pid: v.pid, startedAt: String(v.startedAt) }
        : null;
    } catch {
      return null;
    }
  }
}
