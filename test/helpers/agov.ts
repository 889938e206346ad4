import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI, run as a user would run it. `npm test` builds before running the tests. */
export const AGOV = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface AgovResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const baseEnv = (env: Record<string, string | undefined>) => {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'silent' };
  return { ...clean, ...env };
};

export function agov(args: string[], env: Record<string, string | undefined> = {}): AgovResult {
  const r = spawnSync(process.execPath, [AGOV, ...args], {
    env: baseEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Async variant, for commands that run alongside a server in the same test. */
export function agovAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<AgovResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [AGOV, ...args], { env: baseEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

export function sqlite(dbPath: string, sql: string): AgovResult {
  const r = spawnSync('sqlite3', [dbPath, sql], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'agov-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
