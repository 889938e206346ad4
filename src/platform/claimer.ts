import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A claimer name of this process's own, for work claimed with a lease (outbox calls, stored
 * deliveries) when the replica gives none: unique, so a restart waits for the old claims' leases.
 */
export function processClaimer(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
