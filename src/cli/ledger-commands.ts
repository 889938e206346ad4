import { once } from 'node:events';
import { createWriteStream, fchmodSync, openSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { type SignedHead, signedHeadSchema, verifySignedHead } from '../ledger/checkpoints.js';
import { iterateEntries, type TrustedHead, verifyLedger } from '../ledger/verify.js';
import { withRuntime } from './context.js';
import { EXIT, table } from './output.js';

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('verify, export and follow the hash-chained ledger');

  ledger
    .command('verify')
    .description('recompute the hash chain and compare its end with the newest checkpoint (and --head)')
    .option('--head <file>', 'a signed head exported earlier with `agov ledger head`, kept off this host')
    .action(async (opts: { head?: string }, command: Command) => {
      const external = opts.head ? readHeadFile(opts.head) : null;
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const heads: TrustedHead[] = [];
        const latest = rt.checkpoints.latest();
        if (latest) {
          if (!verifySignedHead(latest)) {
            console.log(`first bad sequence: ${latest.headSeq}`);
            console.log(`checkpoint ${latest.checkpointId} carries an invalid signature: it was altered`);
            process.exitCode = EXIT.checkFailed;
            return;
          }
          heads.push({
            seq: latest.headSeq,
            hash: latest.headHash,
            source: `checkpoint ${latest.checkpointId}`,
          });
        }
        if (external)
          heads.push({ seq: external.headSeq, hash: external.headHash, source: `head file ${opts.head}` });
        const result = verifyLedger(rt.ledger.db, heads);
        for (const note of result.notes) console.log(`note: ${note}`);
        if (result.ok) {
          console.log(
            `ok: ${result.checked} entries checked, chain intact, head ${result.head.seq} ${result.head.hash}`,
          );
        } else {
          console.log(`first bad sequence: ${result.firstBadSeq}`);
          console.log(result.reason);
          console.log(`${result.checked} entries checked`);
          process.exitCode = EXIT.checkFailed;
        }
      });
    });

  ledger
    .command('export')
    .description('write the ledger as JSON Lines, one entry per line')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--after <seq>', 'only entries after this sequence number', parseSeq, 0)
    .action(async (opts: { out?: string; after: number }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const out: Writable = opts.out ? privateFile(opts.out) : process.stdout;
        let n = 0;
        for (const entry of iterateEntries(rt.ledger.db, opts.after)) {
          if (!out.write(`${JSON.stringify(entry)}\n`)) await once(out, 'drain');
          n++;
        }
        if (opts.out) {
          out.end();
          await finished(out);
          console.error(`exported ${n} entries to ${opts.out}`);
        }
      });
    });

  ledger
    .command('tail')
    .description('print the newest entries and follow new ones as they are appended')
    .option('-n, --lines <n>', 'how many of the newest entries to print first', parseSeq, 10)
    .option('--no-follow', 'print and exit')
    .option('--interval <ms>', 'how often to look for new entries', parseSeq, 500)
    .action(async (opts: { lines: number; follow: boolean; interval: number }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        let after = Math.max(0, rt.ledger.head().seq - opts.lines);
        const printNew = () => {
          for (const entry of rt.ledger.entriesAfter(after, 1000)) {
            console.log(JSON.stringify(entry));
            after = entry.seq;
          }
        };
        printNew();
        if (!opts.follow) return;
        await new Promise<void>((resolve) => {
          const timer = setInterval(printNew, opts.interval);
          const stop = () => {
            clearInterval(timer);
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      });
    });

  ledger
    .command('stats')
    .description('entries by type, agents, violations, outbox and checkpoints')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const db = rt.ledger.db;
        const head = rt.ledger.head();
        const byType = db
          .prepare('SELECT type, COUNT(*) AS n FROM ledger_entries GROUP BY type ORDER BY type')
          .all() as {
          type: string;
          n: number;
        }[];
        const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
        console.log(`entries: ${head.seq}  head: ${head.hash}`);
        console.log(`agents: ${count('SELECT COUNT(*) AS n FROM agent_metrics')}`);
        console.log(`violations: ${count('SELECT COUNT(*) AS n FROM violations')}`);
        console.log(`outbox pending: ${rt.ledger.outbox.pendingCount()}`);
        console.log(`checkpoints: ${count('SELECT COUNT(*) AS n FROM checkpoints')}`);
        if (byType.length)
          console.log(
            `\n${table(
              ['type', 'entries'],
              byType.map((r) => [r.type, String(r.n)]),
            )}`,
          );
      });
    });

  ledger
    .command('head')
    .description('export the signed head of the newest checkpoint (keep it off this host)')
    .option('--checkpoint <id>', 'a specific checkpoint instead of the newest')
    .action(async (opts: { checkpoint?: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const checkpoint = opts.checkpoint ? rt.checkpoints.get(opts.checkpoint) : rt.checkpoints.latest();
        if (!checkpoint)
          throw new UserError('no_checkpoint', 'no checkpoint yet; create one with `agov checkpoint create`');
        const { state: _state, ...head } = checkpoint;
        console.log(JSON.stringify(head, null, 2));
      });
    });
}

/** A file for an export, readable by its owner only (whatever the umask, and if it existed before). */
function privateFile(path: string): Writable {
  const fd = openSync(path, 'w', 0o600);
  fchmodSync(fd, 0o600);
  return createWriteStream('', { fd });
}

function readHeadFile(path: string): SignedHead {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UserError(
      'head_file_unreadable',
      `cannot read the head file ${path}: ${(error as Error).message}`,
    );
  }
  const head = signedHeadSchema.safeParse(json);
  if (!head.success)
    throw new UserError('head_file_invalid', `${path} is not a head exported by \`agov ledger head\``);
  if (!verifySignedHead(head.data)) {
    throw new UserError(
      'head_file_forged',
      `the signature of ${path} does not match its content: it was altered`,
    );
  }
  return head.data;
}

export function parseSeq(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UserError('usage', `expected a non-negative whole number, got "${value}"`);
  return n;
}
