import type { Command } from 'commander';
// Options only: the chaos run itself, which pulls in the whole service, is loaded when it runs.
import {
  CHAOS_DATABASES,
  CHAOS_DEFECTS,
  CHAOS_FAULTS,
  type ChaosDatabase,
  type ChaosDefect,
  type ChaosFault,
  type ChaosReport,
  chaosSetUpProblem,
  defaultFaults,
} from '../chaos/chaos-options.js';
import { UserError } from '../platform/errors.js';
import { table } from './output.js';

interface ChaosCommandOptions {
  agents: number;
  duration: number;
  seed: number;
  faults?: string;
  replicas: number;
  database: string;
  defect?: string;
}

/** `agov chaos`: simulated agents and approvers against the real service while its parts fail. */
export function registerChaosCommand(program: Command): void {
  program
    .command('chaos')
    .description(
      'simulated agents and approvers against the real service (or several replicas on PostgreSQL) while Redis, GitHub, Slack, Vault, the service, a replica and PostgreSQL fail; checks invariants',
    )
    .option('--agents <n>', 'simulated agents', (v) => Number.parseInt(v, 10), 8)
    .option('--duration <seconds>', 'how long the agents work', (v) => Number(v), 20)
    .option(
      '--seed <k>',
      'the seed the run is drawn from (same seed, same schedule)',
      (v) => Number.parseInt(v, 10),
      1,
    )
    .option(
      '--faults <list>',
      `comma-separated, from ${CHAOS_FAULTS.join(',')} (default: every one the set-up has: replica with --replicas 2 or more, postgres with --database postgres)`,
    )
    .option(
      '--replicas <n>',
      'service processes sharing the ledger and Redis (more than one needs --database postgres)',
      (v) => Number(v),
      1,
    )
    .option(
      '--database <engine>',
      'the ledger: sqlite, or postgres (a private server the run starts)',
      'sqlite',
    )
    .option(
      '--defect <name>',
      'run a deliberately broken build (no-fencing, or lease-in-redis with --replicas 2) to see the run catch it',
    )
    .action(async (opts: ChaosCommandOptions) => {
      checkNumbers(opts);
      if (!(CHAOS_DATABASES as readonly string[]).includes(opts.database))
        throw new UserError('usage', `--database is one of ${CHAOS_DATABASES.join(', ')}`);
      const database = opts.database as ChaosDatabase;
      const faults =
        opts.faults === undefined ? defaultFaults(opts.replicas, database) : faultsOf(opts.faults);
      const problem = chaosSetUpProblem({
        faults,
        replicas: opts.replicas,
        database,
        ...(opts.defect ? { defect: opts.defect as ChaosDefect } : {}),
      });
      if (problem) throw new UserError('usage', problem);
      const { runChaos } = await import('../chaos/run-chaos.js');
      const report = await runChaos({
        agents: opts.agents,
        durationMs: opts.duration * 1000,
        seed: opts.seed,
        faults,
        replicas: opts.replicas,
        database,
        ...(opts.defect ? { defect: opts.defect as ChaosDefect } : {}),
        print: (line) => console.log(line),
      });
      printReport(report);
      if (!report.ok) process.exitCode = 1;
    });
}

function faultsOf(list: string): ChaosFault[] {
  const faults = list
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = faults.filter((f) => !(CHAOS_FAULTS as readonly string[]).includes(f));
  if (unknown.length)
    throw new UserError(
      'usage',
      `unknown fault(s) ${unknown.join(', ')}; choose from ${CHAOS_FAULTS.join(', ')}`,
    );
  return faults as ChaosFault[];
}

function checkNumbers(opts: ChaosCommandOptions): void {
  if (
    !Number.isInteger(opts.agents) ||
    opts.agents < 1 ||
    !(opts.duration > 0) ||
    !Number.isInteger(opts.seed)
  ) {
    throw new UserError(
      'usage',
      '--agents and --seed are whole numbers, --duration a positive number of seconds',
    );
  }
  if (opts.defect && !(CHAOS_DEFECTS as readonly string[]).includes(opts.defect))
    throw new UserError('usage', `the defects are ${CHAOS_DEFECTS.join(', ')}`);
}

function printReport(report: ChaosReport): void {
  console.log(
    `\nactivity: ${Object.entries(report.stats)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );
  console.log(
    table(
      ['invariant', 'holds', 'count', 'detail'],
      report.invariants.map((i) => [i.name, i.ok ? 'yes' : 'NO', String(i.count), i.detail]),
    ),
  );
}
