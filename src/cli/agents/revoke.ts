import type { Command } from 'commander';
import type { RevocationPlan, Revocations } from '../../governance/revocations.js';
import { actorOption, machines } from '../admin-machines.js';
import { withRuntime } from '../context.js';

/** `agov agents revoke <id>`: the kill switch, or with --dry-run what it would do. */
export function registerAgentsRevoke(agents: Command): void {
  agents
    .command('revoke <id>')
    .description('the kill switch: revoke an agent at once (state, ledger, open PR checks, Vault)')
    .requiredOption('--reason <text>', 'why; shown to people and recorded')
    .option('--dry-run', 'say what would happen, change nothing')
    .option(...actorOption)
    .action(
      async (id: string, opts: { reason: string; dryRun?: boolean; actor: string }, command: Command) => {
        await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
          await rt.governance.restoreState();
          const { revocations } = machines(rt);
          const plan = await revocations.revoke(id, opts.reason, opts.actor, {
            dryRun: Boolean(opts.dryRun),
          });
          await printPlan(id, plan, revocations);
        });
      },
    );
}

async function printPlan(
  id: string,
  plan: RevocationPlan & { dryRun: boolean; queued: boolean },
  revocations: Revocations,
): Promise<void> {
  if (plan.queued) {
    // The kill switch held without the ledger: say so, and that nothing needs doing again.
    console.log(`revoked ${id} (${plan.revocationId}) at once in the state store`);
    console.log(
      'the ledger cannot be written now: the revocation waits in the safety journal and the service records it, with this time, as soon as it can',
    );
    return;
  }
  console.log(`${plan.dryRun ? 'would revoke' : 'revoked'} ${id} (${plan.revocationId}); effects:`);
  const status = plan.dryRun ? null : await revocations.status(id);
  for (const effect of plan.effects) console.log(`  ${effect}: ${status?.effects[effect] ?? 'planned'}`);
  if (!plan.dryRun && !status?.confirmed)
    console.log('not yet confirmed: the service makes the remaining calls and records each outcome');
}
