import type { Command } from 'commander';
import type { AgentRecord } from '../core/agent.js';
import { isTierId, TIER_IDS, type TierId, tierLabel } from '../core/tiers.js';
import { unknownAgent } from '../governance/agent-registry.js';
import { Revocations } from '../governance/revocations.js';
import { UserError } from '../platform/errors.js';
import { withRuntime } from './context.js';
import { table } from './output.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function parseTier(value: string): TierId {
  const tier = value.toUpperCase();
  if (!isTierId(tier))
    throw new UserError('usage', `--tier must be one of ${TIER_IDS.join(', ')}, got "${value}"`);
  return tier;
}

export function registerAgentsCommands(program: Command): Command {
  const agents = program.command('agents').description('register, inspect, promote and revoke agents');

  agents
    .command('add <id>')
    .description('register an agent; prints its API token once')
    .requiredOption('--tier <tier>', `starting tier (${TIER_IDS.join(', ')})`, parseTier)
    .option('--name <name>', 'display name')
    .option('--owner <login>', 'the human accountable for it (GitHub login)')
    .option('--github-login <login>', 'a GitHub login its PRs come from (repeatable)', collect, [])
    .option('--trailer <trailer>', 'a Co-Authored-By trailer, "Name <email>" (repeatable)', collect, [])
    .option('--actor <who>', 'who is registering it, for the ledger', process.env.USER ?? 'cli')
    .action(
      async (
        id: string,
        opts: {
          tier: TierId;
          name?: string;
          owner?: string;
          githubLogin: string[];
          trailer: string[];
          actor: string;
        },
        command: Command,
      ) => {
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
      },
    );

  agents
    .command('rotate-token <id>')
    .description("replace an agent's API token; the old one stops working")
    .option('--actor <who>', 'who is rotating it, for the ledger', process.env.USER ?? 'cli')
    .action(async (id: string, opts: { actor: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        await rt.governance.restoreState();
        const token = await rt.governance.rotateToken(id, opts.actor);
        console.log(`token (shown once): ${token}`);
      });
    });

  agents
    .command('list')
    .description('every registered agent with its tier and status')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const list = Object.values(rt.checkpoints.stateAtHead().state.agents).sort((a, b) =>
          a.id.localeCompare(b.id),
        );
        if (list.length === 0)
          return console.log('no agents registered; add one with `agov agents add <id> --tier T1`');
        console.log(
          table(
            ['id', 'tier', 'status', 'owner', 'since'],
            list.map((a) => [a.id, tierLabel(a.tier), a.status, a.owner ?? '-', a.tierSince]),
          ),
        );
      });
    });

  agents
    .command('show <id>')
    .description('one agent: tier, status, identities, budget and latest entries')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const { state } = rt.checkpoints.stateAtHead();
        const agent: AgentRecord | undefined = state.agents[id];
        if (!agent) throw unknownAgent(id);
        const windowStart = Date.now() - rt.config.budgets.window_hours * 3600_000;
        const used = (state.budgets[id] ?? [])
          .filter((c) => c.at >= windowStart)
          .reduce((s, c) => s + c.amount, 0);
        console.log(`${agent.id} (${agent.name})`);
        console.log(`tier:      ${tierLabel(agent.tier)} since ${agent.tierSince}`);
        console.log(
          `status:    ${agent.status}${state.revocations[id] ? ` (revoked: ${state.revocations[id].reason})` : ''}`,
        );
        console.log(`owner:     ${agent.owner ?? '-'}`);
        console.log(`logins:    ${agent.identities.githubLogins.join(', ') || '-'}`);
        console.log(`trailers:  ${agent.identities.trailers.join(', ') || '-'}`);
        console.log(
          `budget:    ${used} of ${rt.config.budgets.limit} used in the last ${rt.config.budgets.window_hours} h`,
        );
        const revocation = new Revocations(rt.governance, { vault: Boolean(rt.env.VAULT_ADDR) }).status(id);
        if (revocation && agent.status === 'revoked') {
          const effects = Object.entries(revocation.effects)
            .map(([e, s]) => `${e} ${s}`)
            .join(', ');
          console.log(
            `revocation: ${revocation.revocationId} ${revocation.confirmed ? 'confirmed' : 'NOT CONFIRMED'} (${effects})`,
          );
        }
        const recent = rt.ledger.latestForAgent(id, 10);
        console.log(
          `\n${table(
            ['seq', 'time', 'type', 'actor'],
            recent.map((e) => [String(e.seq), e.ts, e.type, e.actor]),
          )}`,
        );
      });
    });
  return agents;
}
