/**
 * Which execution locks the ledger says are still held, from its `execution.lock` entries: the
 * rule a rebuilt state store follows so that a lock, or its fencing token, is never handed out
 * twice after a restart.
 */
import type { LedgerPayload } from './ledger-entries.js';

export interface LockEvent {
  ts: string;
  agentId: string | null;
  payload: LedgerPayload<'execution.lock'>;
}

export interface LockToRestore {
  lockKey: string;
  /** The holder, or null when the lock is free (only its highest token must survive). */
  holder: string | null;
  /** The name the store knew the grant by (`grant`), when its record says. */
  grant?: string;
  /** The highest fencing token ever granted for the key. */
  token: number;
  /** Milliseconds the grant still runs at `now` (0 when free). */
  ttlMs: number;
}

/** The holder a rebuilt store writes for a lock the ledger says `agentId` holds. */
export function restoredHolder(agentId: string): string {
  return `${agentId}:restored`;
}

/**
 * The TTL an `acquired` or `extended` entry granted. Entries written before the TTL was recorded as
 * a number carry it only in their text ("for 600 s"); those are read from the text.
 */
export function grantedSeconds(p: LedgerPayload<'execution.lock'>): number {
  if (typeof p.ttlSeconds === 'number') return p.ttlSeconds;
  return Number(/for (\d+) s/.exec(p.detail)?.[1] ?? 0);
}

/**
 * Every lock key ever granted, with its highest token and, when still held at `now`, its holder and
 * time left. A grant recorded `lost` was never held: a store rebuilt while it was being recorded
 * may have given the same token to another agent, whose grant it must not undo. Releases and
 * expiries end only their own holder's grant.
 */
export function locksToRestore(history: readonly LockEvent[], now: number): LockToRestore[] {
  const grant = (agentId: string | null, p: LedgerPayload<'execution.lock'>) =>
    `${p.lockKey}#${p.token}#${p.grant ?? agentId}`;
  const lost = new Set(
    history.filter((e) => e.payload.op === 'lost').map((e) => grant(e.agentId, e.payload)),
  );
  const held = new Map<string, { holder: string | null; grant?: string; token: number; until: number }>();
  const maxToken = new Map<string, number>();
  for (const { ts, agentId, payload: p } of history) {
    if (p.token !== null) maxToken.set(p.lockKey, Math.max(maxToken.get(p.lockKey) ?? 0, p.token));
    const live = held.get(p.lockKey);
    const ownGrant = live?.token === p.token && live.holder === agentId;
    if (p.op === 'acquired') {
      if (lost.has(grant(agentId, p))) continue;
      held.set(p.lockKey, {
        holder: agentId,
        ...(p.grant ? { grant: p.grant } : {}),
        token: p.token ?? 0,
        until: Date.parse(ts) + grantedSeconds(p) * 1000,
      });
    } else if (p.op === 'extended' && live && ownGrant) {
      // An extension moves the deadline from its own time: a restart must not shorten the lock.
      live.until = Date.parse(ts) + grantedSeconds(p) * 1000;
    } else if ((p.op === 'released' || p.op === 'expired') && ownGrant) {
      held.delete(p.lockKey);
    }
  }
  return [...maxToken].map(([lockKey, token]) => {
    const live = held.get(lockKey);
    return {
      lockKey,
      holder: live?.holder ?? null,
      ...(live?.grant ? { grant: live.grant } : {}),
      token: Math.max(token, live?.token ?? 0),
      ttlMs: live ? Math.max(live.until - now, 0) : 0,
    };
  });
}
