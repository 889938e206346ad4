import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { UserError } from './errors.js';

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const BARE = /^[A-Za-z0-9_.:/+=@-]*$/;

/**
 * A value as a `.env` line writes it: bare when that is unambiguous, else double-quoted with its
 * newlines as `\n` (a PEM key), which Node's parser (`--env-file`, `util.parseEnv`) turns back.
 */
function formatValue(value: string): string {
  if (BARE.test(value)) return value;
  if (/["\\\r]/.test(value))
    throw new Error('a value with a quote, a backslash or a CR cannot be written to .env');
  return `"${value.replaceAll('\n', '\\n')}"`;
}

/** Lines an assignment takes: one, or up to its closing quote when a quoted value spans lines. */
function assignmentLength(lines: string[], start: number, value: string): number {
  const quote = value[0];
  if (quote !== '"' && quote !== "'" && quote !== '`') return 1;
  if (value.indexOf(quote, 1) > 0) return 1;
  for (let i = start + 1; i < lines.length; i++) if (lines[i]!.includes(quote)) return i - start + 1;
  return 1;
}

/** `text` with `values` set: each key's first assignment replaced in place, repeats dropped, new keys appended. */
export function withEnvValues(text: string, values: Record<string, string>): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const written = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = ASSIGNMENT.exec(lines[i]!);
    const key = m?.[1];
    if (!m || key === undefined || !(key in values)) {
      out.push(lines[i]!);
      continue;
    }
    i += assignmentLength(lines, i, m[2]!) - 1;
    if (!written.has(key)) out.push(`${key}=${formatValue(values[key]!)}`);
    written.add(key);
  }
  for (const [key, value] of Object.entries(values))
    if (!written.has(key)) out.push(`${key}=${formatValue(value)}`);
  return `${out.join('\n')}\n`;
}

/**
 * Sets `values` in the `.env` file at `path`, keeping its other lines (comments included), and
 * leaves it mode 0600: it holds credentials. Written to a temporary file and renamed over the old
 * one, so a crash or a full disk leaves the old file whole. Nothing is written on any error.
 */
export function updateEnvFile(path: string, values: Record<string, string>): void {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UserError('env_file_unreadable', `cannot read ${path}: ${code}`);
  }
  const next = withEnvValues(text, values);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, next, { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UserError(
      'env_file_unwritable',
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
}

/**
 * Reads the `.env` file at `path` into `env`, as Probot does at start: a variable already set in
 * the environment wins over the file. A missing file is fine; an unreadable one is an error.
 */
export function loadEnvFile(path: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!existsSync(path)) return;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(
      'env_file_unreadable',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  for (const [key, value] of Object.entries(parseEnv(text))) if (env[key] === undefined) env[key] = value;
}
