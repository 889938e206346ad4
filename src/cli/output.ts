/** Plain-text tables for the terminal: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export const EXIT = {
  ok: 0,
  /** The thing checked is not as it should be (a broken chain). */
  checkFailed: 1,
  /** Usage, configuration or I/O error. */
  usage: 2,
} as const;
