/**
 * Limits on what an agent may hand the ledger, checked before its entry joins a group commit: an
 * entry that cannot be serialised or stored fails its whole batch, and so other agents' writes.
 */

/** Deeper than any honest request; far below what JSON.stringify and SQLite's JSON functions handle. */
export const MAX_BODY_DEPTH = 32;
/** Event data is a summary for the ledger and the notifications, not a payload store. */
export const MAX_EVENT_DATA_BYTES = 64 * 1024;

/**
 * True when `value` nests arrays or objects more than `limit` levels deep. Iterative, so a
 * hostile body 100,000 levels deep costs a loop, not the stack.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The UTF-8 size of `value` as JSON (its depth already bounded, so this cannot overflow). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}
