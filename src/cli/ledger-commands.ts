import { once } from 'node:events';
import { createWriteStream, fchmodSync, openSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { type SignedHead, signedHeadSchema, verifySignedHead } from '../ledger/checkpoints.js';
import { iterateEntries } from '../ledger/iterate-entries.js';
import { ledgerStats } from '../ledger/queries/admin.js';
import { publicKeyPem, readPublicKeyText } from '../ledger/signing-key.js';
import { type TrustedHead, verifyLedger } from '../ledger/verify.js';
import { UserError } from '../platform/errors.js';
import { withRuntime } from './context.js';
import { EXIT, table } from './output.js';

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('verify, export and follow the hash-chained ledger');

  ledger
    .command('verify')
    .description(
      'replay the chain: hashes, the pinned key, every checkpoint (signature, head, state) and every projection table',
    )
    .option('--head <file>', 'a signed head exported earlier with `agov ledger head`, kept off this host')
    .option(
      '--public-key <file>',
      'the public key exported with `agov ledger head --public-key`, kept off this host: the pinned key must be it',
    )
    .action(async (opts: { head?: string; publicKey?: string }, command: Command) => {
      const publicKey = opts.publicKey
        ? {
            key: readPublicKeyText(readText(opts.publicKey, 'public key'), opts.publicKey),
            source: opts.publicKey,
          }
        : undefined;
      const external = opts.head ? readHeadFile(opts.head) : null;
      if (external && publicKey && !verifySignedHead(external, publicKey.key)) {
        throw new UserError(
          'head_file_forged',
          `${opts.head} is not signed by the key in ${publicKey.source}: it was altered or signed by someone else`,
        );
      }
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const heads: TrustedHead[] = external
          ? [{ seq: external.headSeq, hash: external.headHash, source: `head file ${opts.head}` }]
          : [];
        const result = verifyLedger(rt.ledger, heads, {
          publicKey,
          hostPublicKey: rt.signingKey.publicKey,
        });
        for (const note of result.notes) console.log(`note: ${note}`);
        if (!result.ok) {
          const p = result.problem;
          if (p.kind === 'entry') console.log(`first bad sequence: ${p.seq}`);
          else if (p.kind === 'checkpoint') console.log(`first bad checkpoint: ${p.checkpointId}`);
          else console.log(`first bad table: ${p.table}\nfirst bad key: ${p.key}`);
          console.log(result.reason);
          console.log(`${result.checked} entries checked`);
          process.exitCode = EXIT.checkFailed;
          return;
        }
        console.log(
          `ok: ${result.checked} entries checked, chain intact, head ${result.head.seq} ${result.head.hash}`,
        );
        const n = result.checkpoints.count;
        console.log(
          n === 0
            ? 'ok: no checkpoint yet'
            : `ok: ${n} checkpoint${n === 1 ? '' : 's'} signed by ${result.checkpoints.key}, ${n === 1 ? 'its state matches' : 'their states match'} the chain`,
        );
        if (publicKey && result.pinned)
          console.log(`ok: the key pinned at entry ${result.pinned.seq} is the one in ${publicKey.source}`);
        console.log(`ok: projections match the chain (${result.tables.join(', ')})`);
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
        for (const entry of iterateEntries(rt.ledger, opts.after)) {
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
        const head = rt.ledger.head();
        const stats = ledgerStats(rt.ledger);
        console.log(`entries: ${head.seq}  head: ${head.hash}`);
        console.log(`agents: ${stats.agents}`);
        console.log(`violations: ${stats.violations}`);
        console.log(`outbox pending: ${rt.ledger.outbox.pendingCount()}`);
        console.log(`checkpoints: ${stats.checkpoints}`);
        if (stats.entriesByType.length)
          console.log(
            `\n${table(
              ['type', 'entries'],
              stats.entriesByType.map((r) => [r.type, String(r.count)]),
            )}`,
          );
      });
    });

  ledger
    .command('head')
    .description(
      'export the signed head of the newest checkpoint and the pinned public key (keep them off this host)',
    )
    .option('--checkpoint <id>', 'a specific checkpoint instead of the newest')
    .option('--public-key', 'print only the pinned public key, as PEM, for `agov ledger verify --public-key`')
    .action(async (opts: { checkpoint?: string; publicKey?: boolean }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const pinned = rt.checkpoints.pinnedKey();
        if (opts.publicKey) {
          if (!pinned)
            throw new UserError(
              'no_pinned_key',
              'no key is pinned in this ledger yet; the first checkpoint pins it: `agov checkpoint create`',
            );
          process.stdout.write(publicKeyPem(pinned.publicKey));
          return;
        }
        const checkpoint = opts.checkpoint ? rt.checkpoints.get(opts.checkpoint) : rt.checkpoints.latest();
        if (!checkpoint)
          throw new UserError('no_checkpoint', 'no checkpoint yet; create one with `agov checkpoint create`');
        const { state: _state, ...head } = checkpoint;
        console.log(JSON.stringify({ ...head, pinnedKey: pinned }, null, 2));
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
  // The operator's own file, kept off the host: it only adds a head the chain must reach, so it
  // is checked against the key it names; `verify --public-key` checks that key too.
  if (!verifySignedHead(head.data, head.data.publicKey)) {
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

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(
      `${what.replace(' ', '_')}_file_unreadable`,
      `cannot read the ${what} file ${path}: ${(error as Error).message}`,
    );
  }
}
