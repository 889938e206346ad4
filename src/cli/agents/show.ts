import type { Command } from 'commander';
import type { Runtime } from '../../app/open-runtime.js';
import type { AgentRecord } from '../../core/agent.js';
import type { DerivedState } from '../../core/derived-state.js';
import { tierLabel } from '../../core/tiers.js';
import { unknownAgent } from '../../governance/agent-registry.js';
import { Revocations } from '../../governance/revocations.js';
import { fleetViewsAsync } from '../../ledger/queries/fleet-views.js';
import { withRuntime } from '../context.js';
import { table } from '../output.js';

/** `agov agents show <id>`: one agent's tier, status, identities, budget and latest entries. */
export function registerAgentsShow(agents: Command): void {
  agents
    .command('show <id>')
    .description('one agent: tier, status, identities, budget and latest entries')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const { state } = await rt.governance.checkpoints.stateAtHead();
        const agent: AgentRecord | undefined = state.agents[id];
        if (!agent) throw unknownAgent(id);
        printAgent(rt, state, agent);
        await printRevocation(rt, agent);
        const recent = await fleetViewsAsync.latestForAgent(rt.store.reader, id, 10);
        console.log(
          `\n${table(
            ['seq', 'time', 'type', 'actor'],
            recent.map((e) => [String(e.seq), e.ts, e.type, e.actor]),
          )}`,
        );
      });
    });
}

function printAgent(rt: Runtime, state: DerivedState, agent: AgentRecord): void {
  const { budgets } = rt.config;
  const windowStart = rt.governance.clock.ms() - budgets.window_hours * 3600_000;
  const used = (state.budgets[agent.id] ?? [])
    .filter((c) => c.at >= windowStart)
    .reduce((s, c) => s + c.amount, 0);
  const revoked = state.revocations[agent.id];
  console.log(`${agent.id} (${agent.name})`);
  console.log(`tier:      ${tierLabel(agent.tier)} since ${agent.tierSince}`);
  console.log(`status:    ${agent.status}${revoked ? ` (revoked: ${revoked.reason})` : ''}`);
  console.log(`owner:     ${agent.owner ?? '-'}`);
  console.log(`logins:    ${agent.identities.githubLogins.join(', ') || '-'}`);
  console.log(`trailers:  ${agent.identities.trailers.join(', ') || '-'}`);
  console.log(`budget:    ${used} of ${budgets.limit} used in the last ${budgets.window_hours} h`);
}

/** For a revoked agent: whether its revocation's effects are confirmed. */
async function printRevocation(rt: Runtime, agent: AgentRecord): Promise<void> {
  const revocations = new Revocations(rt.governance, { vault: Boolean(rt.env.VAULT_ADDR) });
  const revocation = await revocations.status(agent.id);
  if (!revocation || agent.status !== 'revoked') return;
  const effects = Object.entries(revocation.effects)
    .map(([e, s]) => `${e} ${s}`)
    .join(', ');
  console.log(
    `revocation: ${revocation.revocationId} ${revocation.confirmed ? 'confirmed' : 'NOT CONFIRMED'} (${effects})`,
  );
}
