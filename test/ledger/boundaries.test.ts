/**
 * The ledger owns its database: every SQL statement lives in src/ledger, and nothing outside it
 * imports the SQLite or PostgreSQL driver or reaches for the handle under a ledger. Read from the sources, as
 * a reviewer would grep them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const outside = sources(join(ROOT, 'src'))
  .map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }))
  .filter((f) => !f.path.startsWith('src/ledger/'));

it.each([
  ['an SQL statement', /\.prepare\s*[(<]/],
  ['the SQLite driver', /from ['"]better-sqlite3['"]/],
  ['the PostgreSQL driver', /from ['"]pg['"]|import\(['"]pg['"]\)|require\(['"]pg['"]\)/],
  ['the handle under a ledger', /\bdbOf\b|\.ledger\.db\b|\bLedgerDb\b/],
])('nothing outside src/ledger holds %s', (_what, pattern) => {
  expect(outside.filter((f) => pattern.test(f.text)).map((f) => f.path)).toEqual([]);
});
