import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SafetyAction } from '../core/safety-action.js';
import { type LedgerReader, perEngine } from './ledger-reader.js';
import { getQuery } from './queries/query.js';

type JournalLine = { op: 'queued'; action: SafetyAction } | { op: 'done'; id: string };

/**
 * Safety actions waiting for the ledger: a file next to it, `<ledger>.safety-journal`, mode 0600,
 * one JSON line per event, appended and fsynced before the action is reported done. An action is
 * `queued` when it took effect but its ledger entry could not be written, and `done` once that
 * entry committed: the line is written only after the commit, so a crash in between replays it, and
 * the entry's `journalId` keeps the replay from appending it twice.
 *
 * Append-only, never rewritten: the CLI and the service append to it independently, and a rewrite
 * could drop a line another process appended meanwhile. It grows by two short lines per action
 * taken while the ledger could not be written.
 */
export class SafetyJournal {
  constructor(readonly path: string) {}

  /** The journal of the ledger at `ledgerPath`, or null for an in-memory ledger (nothing to keep). */
  static besideLedger(ledgerPath: string): SafetyJournal | null {
    return ledgerPath === ':memory:' ? null : new SafetyJournal(`${ledgerPath}.safety-journal`);
  }

  queue(action: SafetyAction): void {
    this.append({ op: 'queued', action });
  }

  markDone(id: string): void {
    this.append({ op: 'done', id });
  }

  /** Queued actions without their `done`, oldest first. A torn last line (a crash) is skipped. */
  pending(): SafetyAction[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const queued = new Map<string, SafetyAction>();
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let line: JournalLine;
      try {
        line = JSON.parse(raw) as JournalLine;
      } catch {
        continue;
      }
      if (line.op === 'queued') queued.set(line.action.id, line.action);
      else if (line.op === 'done') queued.delete(line.id);
    }
    return [...queued.values()];
  }

  private append(line: JournalLine): void {
    const fd = openSync(this.path, 'a', 0o600);
    try {
      // Private whatever the umask: it names agents, admins and reasons.
      fchmodSync(fd, 0o600);
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    syncDirectory(dirname(this.path));
  }
}

/** Makes a newly created file's name durable too: the data of a file no directory lists is lost. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the file's own fsync is what they offer.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Whether the ledger already records the journal's action `journalId` for the agent. Read inside
 * the replay's decision (`store.appendDecided`), so the action is appended once, whichever process replays.
 */
export async function recordedInLedgerAsync(
  reader: LedgerReader,
  agentId: string,
  journalId: string,
): Promise<boolean> {
  return recordedQuery.read(reader, agentId, journalId);
}

const recordedQuery = getQuery<[agentId: string, journalId: string], { found: number }, boolean>({
  sql: perEngine(
    (d) => `SELECT 1 AS found FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
         WHERE a.agent_id = ? AND a.type IN ('revocation.requested', 'agent.status_changed')
           AND ${d.jsonIsText('e.payload', 'journalId')}`,
  ),
  map: (row) => Boolean(row),
});
