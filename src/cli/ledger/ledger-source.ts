import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type Runtime, sqliteCheckpointsOf, sqliteOf } from '../../app/open-runtime.js';
import type { LedgerEntry } from '../../core/ledger-entries.js';
import type { Checkpoint } from '../../ledger/checkpoints.js';
import { iterateEntries } from '../../ledger/iterate-entries.js';
import type { LedgerHead } from '../../ledger/ledger.js';
import type { PinnedKey } from '../../ledger/pinned-key.js';
import { parsePostgresUrl } from '../../ledger/postgres/pg-connect.js';
import { pgLedgerStats } from '../../ledger/postgres/pg-stats.js';
import { openPostgresLedger, type PostgresLedger } from '../../ledger/postgres/postgres-ledger.js';
import { type LedgerStats, ledgerStats } from '../../ledger/queries/admin.js';
import { loadSigningKey } from '../../ledger/signing-key.js';
import {
  type TrustedHead,
  type VerifyOptions,
  type VerifyResult,
  verifyLedger,
} from '../../ledger/verify.js';
import { UserError } from '../../platform/errors.js';
import { envFor, withRuntime } from '../context.js';

/**
 * What the read-only `agov ledger` commands read, on either engine: the same entries, heads,
 * checkpoints and verdicts, so each command prints the same thing whichever holds the ledger.
 */
export interface LedgerCommandSource {
  head(): Promise<LedgerHead>;
  /** Entries with `seq > afterSeq` up to the head when called, oldest first. */
  entries(afterSeq: number): AsyncIterable<LedgerEntry>;
  entriesAfter(afterSeq: number, limit: number): Promise<LedgerEntry[]>;
  pinnedKey(): Promise<PinnedKey | null>;
  /** The newest checkpoint, or the one named. */
  checkpoint(id?: string): Promise<Checkpoint | null>;
  /** `agov ledger stats`: counts, and the outbox messages not delivered yet. */
  stats(): Promise<LedgerStats & { outboxPending: number }>;
  /** `agov ledger verify`'s checks, with this host's signing key for checkpoints made before a key was pinned. */
  verify(heads: readonly TrustedHead[], publicKey: VerifyOptions['publicKey']): Promise<VerifyResult>;
}

/** The `--database URL` option of the commands that read a PostgreSQL ledger too. */
export function withDatabaseOption(command: Command): Command {
  return command.option(
    '--database <url>',
    'a PostgreSQL ledger, postgres://USER[:PASSWORD]@HOST[:PORT]/DB (default: DATABASE_URL; --ledger PATH reads a SQLite file instead)',
  );
}

/**
 * Which ledger the command reads: `--database URL`, else `--ledger PATH`, else DATABASE_URL, else
 * LEDGER_PATH (a flag given on the command line wins over the environment).
 */
export function ledgerSourceOf(
  command: Command,
): { engine: 'postgres'; url: string; from: string } | { engine: 'sqlite' } {
  const opts = command.optsWithGlobals<{ ledger?: string; database?: string }>();
  if (opts.database && opts.ledger) {
    throw new UserError('usage', '--database and --ledger name two ledgers: pass one');
  }
  if (opts.database) return { engine: 'postgres', url: opts.database, from: '--database' };
  if (opts.ledger) return { engine: 'sqlite' };
  const url = envFor(command).DATABASE_URL;
  return url ? { engine: 'postgres', url, from: 'DATABASE_URL' } : { engine: 'sqlite' };
}

/** Opens the ledger the command names (`ledgerSourceOf`), read-only use, and always closes it. */
export async function withLedgerCommandSource<T>(
  command: Command,
  fn: (reader: LedgerCommandSource) => Promise<T>,
): Promise<T> {
  const source = ledgerSourceOf(command);
  if (source.engine === 'sqlite') {
    return withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) =>
      fn(sqliteReader(rt)),
    );
  }
  try {
    parsePostgresUrl(source.url);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(error.code, `${source.from}: ${error.message}`);
    throw error;
  }
  const ledger = await openPostgresLedger(source.url, undefined, 2, { mustExist: true });
  try {
    return await fn(postgresReader(ledger, hostPublicKey(command)));
  } finally {
    await ledger.close();
  }
}

function sqliteReader(rt: Runtime): LedgerCommandSource {
  const ledger = sqliteOf(rt);
  const checkpoints = sqliteCheckpointsOf(rt);
  return {
    head: async () => ledger.head(),
    async *entries(afterSeq) {
      yield* iterateEntries(ledger, afterSeq);
    },
    entriesAfter: async (afterSeq, limit) => ledger.entriesAfter(afterSeq, limit),
    pinnedKey: async () => checkpoints.pinnedKey(),
    checkpoint: async (id) => (id ? checkpoints.get(id) : checkpoints.latest()),
    stats: async () => ({ ...ledgerStats(ledger), outboxPending: ledger.outbox.pendingCount() }),
    verify: async (heads, publicKey) =>
      verifyLedger(ledger, heads, { publicKey, hostPublicKey: rt.signingKey.publicKey }),
  };
}

function postgresReader(ledger: PostgresLedger, host: string | undefined): LedgerCommandSource {
  return {
    head: () => ledger.head(),
    async *entries(afterSeq) {
      const upTo = (await ledger.head()).seq;
      for (let after = afterSeq; after < upTo; ) {
        const batch = (await ledger.entriesAfter(after, 1000)).filter((e) => e.seq <= upTo);
        if (batch.length === 0) return;
        yield* batch;
        after = batch.at(-1)!.seq;
      }
    },
    entriesAfter: (afterSeq, limit) => ledger.entriesAfter(afterSeq, limit),
    pinnedKey: () => ledger.checkpoints.pinnedKey(),
    checkpoint: (id) => (id ? ledger.checkpoints.get(id) : ledger.checkpoints.latest()),
    stats: () => ledger.withClient(pgLedgerStats),
    verify: (heads, publicKey) => ledger.verifyLedger(heads, { publicKey, hostPublicKey: host }),
  };
}

/**
 * This host's signing key, when one is configured (LEDGER_SIGNING_KEY, or a key file at
 * LEDGER_SIGNING_KEY_PATH): read, never created, for a PostgreSQL ledger has no file beside it.
 */
function hostPublicKey(command: Command): string | undefined {
  const env = envFor(command);
  const path = env.LEDGER_SIGNING_KEY_PATH;
  if (!env.LEDGER_SIGNING_KEY && !(path && existsSync(path))) return undefined;
  return loadSigningKey({ pem: env.LEDGER_SIGNING_KEY, path: path ?? '' }).publicKey;
}
