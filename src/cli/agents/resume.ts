import type { Command } from 'commander';
import { UserError } from '../../platform/errors.js';
import { actorOption } from '../admin-machines.js';
import { withRuntime } from '../context.js';

/** `agov agents resume <id>`: a suspended agent back to active (a revoked one is reinstated instead). */
export function registerAgentsResume(agents: Command): void {
  agents
    .command('resume <id>')
    .description('resume an agent suspended for its error budget or by an admin')
    .option('--reason <text>', 'why, for the ledger', 'resumed by an admin')
    .option(...actorOption)
    .action(async (id: string, opts: { reason: string; actor: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
        await rt.governance.restoreState();
        const agent = await rt.state.getAgent(id);
        if (!agent) throw new UserError('agent_unknown', `no agent "${id}" is registered`);
        if (agent.status !== 'suspended')
          throw new UserError(
            'not_suspended',
            `${id} is ${agent.status}; only a suspended agent can be resumed (revoked ones are reinstated)`,
          );
        await rt.governance.record([
          {
            type: 'agent.status_changed',
            agentId: id,
            actor: opts.actor,
            payload: { from: 'suspended', to: 'active', reason: opts.reason },
          },
        ]);
        console.log(`${id} resumed`);
      });
    });
}
