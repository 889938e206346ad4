/** The first row where the stored projections and the chain differ, as both engines' verify report it. */
export interface ProjectionMismatch {
  table: string;
  /** The row's primary key, `column=value, …`. */
  key: string;
  reason: string;
  /** The row's ledger sequence, when its key has one. */
  seq: number | null;
}

type Row = Record<string, unknown>;

/**
 * Describes a row found in one side only, or in both with different values (`stored` and `replayed`
 * null when absent): which table, which key, and each column that differs.
 */
export function describeMismatch(
  table: string,
  key: readonly string[],
  columns: readonly string[],
  stored: Row | null,
  replayed: Row | null,
): ProjectionMismatch {
  const row = (stored ?? replayed)!;
  const keyText = key.map((k) => `${k}=${row[k]}`).join(', ');
  const seq = key.includes('seq') ? Number(row.seq) : null;
  const base = { table, key: keyText, seq };
  if (!replayed) return { ...base, reason: `${table} row ${keyText} is not in the chain` };
  if (!stored) return { ...base, reason: `${table} row ${keyText} is missing: the chain wrote it` };
  const diffs = columns
    .filter((c) => stored[c] !== replayed[c])
    .map((c) => `${c} is ${JSON.stringify(stored[c])}, the chain says ${JSON.stringify(replayed[c])}`);
  return { ...base, reason: `${table} row ${keyText} differs from the chain: ${diffs.join('; ')}` };
}
