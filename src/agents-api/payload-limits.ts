/**
 * Limits on what an agent may hand the ledger, checked before its entry joins a group commit: an
 * entry that cannot be serialised or stored fails its whole batch, and so other agents' writes.
 */

/** Deeper than any honest request; far below what JSON.stringify and SQLite's JSON functions handle. */
export const MAX_BODY_DEPTH = 32;
/**
 * What a body may be beyond the data or state it carries (the envelope, whitespace): a declared
 * `content-length` past the cap plus this is refused before a byte is read.
 */
export const BODY_ENVELOPE_BYTES = 16 * 1024;
/** Bodies of the other calls: a preflight lists at most 3,000 paths. */
export const OTHER_BODY_BYTES = 1024 * 1024;

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
