import type { Command } from 'commander';
import type { ChaosFault, ChaosReport } from '../chaos/chaos-options.js';
import { UserError } from '../platform/errors.js';
import { table } from './output.js';

interface ChaosCommandOptions {
  agents: number;
  duration: number;
  seed: number;
  faults: string;
  defect?: string;
}

/** `agov chaos`: simulated agents and approvers against the real service while its parts fail. */
export function registerChaosCommand(program: Command): void {
  program
    .command('chaos')
    .description(
      'simulated agents and approvers against the real service while Redis, GitHub, Slack and the service itself fail; checks invariants',
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
      `comma-separated: ${['redis', 'github', 'slack', 'vault', 'service'].join(',')}`,
      'redis,github,slack,vault,service',
    )
    .option('--defect <name>', 'run a deliberately broken build (no-fencing) to see the run catch it')
    .action(async (opts: ChaosCommandOptions) => {
      const faults = await faultsOf(opts.faults);
      checkNumbers(opts);
      const { runChaos } = await import('../chaos/run-chaos.js');
      const report = await runChaos({
        agents: opts.agents,
        durationMs: opts.duration * 1000,
        seed: opts.seed,
        faults,
        ...(opts.defect ? { defect: 'no-fencing' as const } : {}),
        print: (line) => console.log(line),
      });
      printReport(report);
      if (!report.ok) process.exitCode = 1;
    });
}

async function faultsOf(list: string): Promise<ChaosFault[]> {
  // Loaded here, not at the top: the chaos run pulls in the whole service.
  const { CHAOS_FAULTS } = await import('../chaos/chaos-options.js');
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
  if (opts.defect && opts.defect !== 'no-fencing')
    throw new UserError('usage', 'the only defect is no-fencing');
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
