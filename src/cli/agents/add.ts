import type { Command } from 'commander';
import { isTierId, TIER_IDS, type TierId, tierLabel } from '../../core/tiers.js';
import { UserError } from '../../platform/errors.js';
import { withRuntime } from '../context.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function parseTier(value: string): TierId {
  const tier = value.toUpperCase();
  if (!isTierId(tier))
    throw new UserError('usage', `--tier must be one of ${TIER_IDS.join(', ')}, got "${value}"`);
  return tier;
}

interface AddOptions {
  tier: TierId;
  name?: string;
  owner?: string;
  githubLogin: string[];
  trailer: string[];
  actor: string;
}

/** `agov agents add <id>`: registers an agent and prints its API token once. */
export function registerAgentsAdd(agents: Command): void {
  agents
    .command('add <id>')
    .description('register an agent; prints its API token once')
    .requiredOption('--tier <tier>', `starting tier (${TIER_IDS.join(', ')})`, parseTier)
    .option('--name <name>', 'display name')
    .option('--owner <login>', 'the human accountable for it (GitHub login)')
    .option('--github-login <login>', 'a GitHub login its PRs come from (repeatable)', collect, [])
    .option('--trailer <trailer>', 'a Co-Authored-By trailer, "Name <email>" (repeatable)', collect, [])
    .option('--actor <who>', 'who is registering it, for the ledger', process.env.USER ?? 'cli')
    .action(async (id: string, opts: AddOptions, command: Command) => {
      await withRuntime(command, { stateStore: 'memory' }, async (rt) => {
        await rt.governance.restoreState();
        const { agent, token } = await rt.governance.registerAgent(
          {
            id,
            name: opts.name,
            owner: opts.owner ?? null,
            tier: opts.tier,
            identities: { githubLogins: opts.githubLogin, trailers: opts.trailer },
          },
          opts.actor,
        );
        console.log(`registered ${agent.id} at ${tierLabel(agent.tier)}`);
        console.log(`token (shown once, store it as the agent's secret): ${token}`);
      });
    });
}
