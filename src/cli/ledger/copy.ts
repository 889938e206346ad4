import type { Command } from 'commander';
import { sqliteOf } from '../../app/open-runtime.js';
import { copyChainToPostgres } from '../../ledger/ledger-copy.js';
import { parsePostgresUrl } from '../../ledger/postgres/pg-connect.js';
import { pgSchemaProblem, pinSearchPath } from '../../ledger/postgres/pg-verify-schema.js';
import { openPostgresLedger, type PostgresLedger } from '../../ledger/postgres/postgres-ledger.js';
import { verifyLedger } from '../../ledger/verify.js';
import { UserError } from '../../platform/errors.js';
import { withRuntime } from '../context.js';

/**
 * `agov ledger copy --to postgres://…`: moves an installation to PostgreSQL. The SQLite ledger must
 * verify first; the target must be empty; the copy keeps every hash and is verified on arrival.
 */
export function registerLedgerCopy(ledger: Command): void {
  ledger
    .command('copy')
    .description(
      "copy this SQLite ledger's chain into an empty PostgreSQL ledger, verify it there and print the head both sides agree on",
    )
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE')
    .action(async (opts: { to: string }, command: Command) => {
      parsePostgresUrl(opts.to);
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        // The target first: an unreachable server or a non-empty ledger is known before a long verify.
        const target = await openPostgresLedger(opts.to);
        try {
          await refuseNonEmpty(target);
          await refuseForeignSchema(target);
          const source = verifyLedger(sqliteOf(rt), [], { hostPublicKey: rt.signingKey.publicKey });
          if (!source.ok) {
            throw new UserError(
              'ledger_copy_source_unverified',
              `the ledger at ${rt.env.LEDGER_PATH} does not verify (first bad sequence ${source.firstBadSeq}: ${source.reason}); nothing was copied. See \`agov ledger verify\``,
            );
          }
          console.log(`source ${rt.env.LEDGER_PATH}: ${entries(source.checked)} verified`);
          const { head, copied, checkpoints } = await copyChainToPostgres(sqliteOf(rt), target, source.head, {
            hostPublicKey: rt.signingKey.publicKey,
          });
          console.log(
            `copied ${entries(copied)} to ${target.where}, rebuilt its projections from the chain there; chain and projections verify there`,
          );
          if (checkpoints > 0) {
            console.log(
              `copied ${checkpoints} checkpoint${checkpoints === 1 ? '' : 's'} as signed; they verify there against the same key`,
            );
          }
          console.log(`head both sides agree on: ${head.seq} ${head.hash}`);
        } finally {
          await target.close();
        }
      });
    });
}

/**
 * A target whose schema is not this build's (a trigger of someone else's on the chain, which would
 * receive every entry as it is copied) is refused before anything is copied.
 */
async function refuseForeignSchema(target: PostgresLedger): Promise<void> {
  const problem = await target.withClient(async (client) => {
    await client.query('BEGIN');
    try {
      await pinSearchPath(client);
      return await pgSchemaProblem(client);
    } finally {
      await client.query('ROLLBACK');
    }
  });
  if (problem)
    throw new UserError(
      'ledger_copy_target_unsafe',
      `the target ${target.where} is not a ledger as this build makes it (first bad schema object: ${problem.object}: ${problem.reason}); nothing was copied`,
    );
}

/** Said before the copy, and checked again inside its transaction. */
async function refuseNonEmpty(target: PostgresLedger): Promise<void> {
  const head = await target.head();
  if (head.seq !== 0) {
    throw new UserError(
      'ledger_copy_target_not_empty',
      `the ledger at ${target.where} already holds ${entries(head.seq)}; copy only into an empty one`,
    );
  }
}

function entries(n: number): string {
  return `${n} ${n === 1 ? 'entry' : 'entries'}`;
}
