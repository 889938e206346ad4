import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

/**
 * A full disk, as root can have one: this process (and every process it starts from now on) may
 * not grow a file past the ledger's write-ahead log as it is now (RLIMIT_FSIZE, through
 * util-linux `prlimit`). Opening a write transaction and rolling it back still works; committing
 * anything fails, as it does when the disk is full. Small files (the safety journal) can still be
 * written. Node ignores SIGXFSZ, so a refused write is an error, not a crash. Returns the undo.
 */
export function fillDisk(ledgerPath: string): () => void {
  const limit = statSync(`${ledgerPath}-wal`).size;
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${limit}:unlimited`]);
  return () => execFileSync('prlimit', ['--pid', String(process.pid), '--fsize=unlimited:unlimited']);
}
