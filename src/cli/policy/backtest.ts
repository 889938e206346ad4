import type { Command } from 'commander';
import { type BacktestRow, backtestPolicy } from '../../governance/policy-backtest.js';
import { UserError } from '../../platform/errors.js';
import { withRuntime } from '../context.js';
import { EXIT, table } from '../output.js';
import { loadPolicyFile } from './policy-file.js';

/** `agov policy backtest <file>`: the recorded agent PRs replayed under a candidate policy. */
export function registerPolicyBacktest(policy: Command): void {
  policy
    .command('backtest <file>')
    .description(
      'replay a candidate policy over the agent PRs recorded in the ledger and show which verdicts would change',
    )
    .option('--last <n>', 'the newest N decisions', (v) => Number.parseInt(v, 10), 100)
    .option('--since <date>', 'only decisions from this date (ISO 8601)')
    .option('--until <date>', 'only decisions up to this date (ISO 8601)')
    .action(
      async (file: string, opts: { last: number; since?: string; until?: string }, command: Command) => {
        const resolved = loadPolicyFile(file);
        if (!resolved) {
          process.exitCode = EXIT.usage;
          return;
        }
        if (!Number.isInteger(opts.last) || opts.last <= 0)
          throw new UserError('usage', '--last must be a positive whole number');
        await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
          const rows = await backtestPolicy(rt.store.reader, resolved, rt.config, opts);
          if (rows.length === 0) return console.log('no agent PR decisions recorded in that range');
          printChanges(rows, file);
        });
      },
    );
}

function printChanges(rows: BacktestRow[], file: string): void {
  const changed = rows.filter((r) => r.was !== r.wouldBe);
  if (changed.length) {
    console.log(
      table(
        ['seq', 'pull request', 'agent', 'was', 'would be', 'newly fired', 'no longer fired'],
        changed.map((r) => [
          String(r.seq),
          r.pr,
          `${r.agentId} (${r.tier})`,
          r.was,
          r.wouldBe,
          r.newlyFired.join(', ') || '-',
          r.noLongerFired.join(', ') || '-',
        ]),
      ),
    );
    console.log('');
  }
  console.log(`${changed.length} of ${rows.length} decisions would change under ${file}`);
  console.log('(the secrets rule keeps its recorded result: file contents are not in the ledger)');
}
