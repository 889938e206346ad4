import type { Command } from 'commander';
import type { Runtime } from '../app/open-runtime.js';
import { loadOrgConfig } from '../config/load-org-config.js';
import { readEnv } from '../config/read-env.js';
import type { MoveKind, PromotionStatus } from '../governance/promotion-status.js';
import { Promotions } from '../governance/promotions.js';
import { Revocations } from '../governance/revocations.js';
import { requestedPromotionIds } from '../ledger/queries/promotions.js';
import { UserError } from '../platform/errors.js';
import { readVaultConfig } from '../secrets/vault-config.js';
import { vaultSetTierMessage } from '../secrets/vault-deliverer.js';
import { withRuntime } from './context.js';
import { table } from './output.js';

const actorOption = ['--actor <who>', 'who is acting, for the ledger', process.env.USER ?? 'cli'] as const;

/**
 * Admin actions write the ledger (and, for a revocation, the state store REDIS_URL names, so the
 * signal holds at once); the calls they cause (Vault, GitHub checks) wait in the outbox for the
 * running service to make.
 */
function machines(rt: Runtime) {
  const vault = Boolean(rt.env.VAULT_ADDR);
  return {
    promotions: new Promotions(rt.governance, vault ? vaultSetTierMessage : null),
    revocations: new Revocations(rt.governance, { vault }),
  };
}

function describe(p: PromotionStatus): string {
  const need = p.council ? `council quorum ${p.required}` : `${p.required} approval(s)`;
  const votes = p.approvals.length ? `; approved by ${p.approvals.join(', ')}` : '';
  return `${p.promotionId}: ${p.kind} of ${p.agentId} ${p.from} → ${p.to}, ${p.outcome}${p.outcome === 'pending' ? ` (needs ${need}${votes})` : votes}`;
}

export function registerAdminCommands(agents: Command, program: Command): void {
  const move = (name: string, kind: MoveKind, description: string) =>
    agents
      .command(`${name} <id>`)
      .description(description)
      .option('--to <tier>', 'the tier to move to (one step)')
      .option('--reason <text>', 'why, for the ledger')
      .option('--force', 'skip the eligibility check (still needs the approvals)')
      .option(...actorOption)
      .action(
        async (
          id: string,
          opts: { to?: string; reason?: string; force?: boolean; actor: string },
          command: Command,
        ) => {
          await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
            await rt.governance.restoreState();
            const status = await machines(rt).promotions.request(id, opts.actor, { kind, ...opts });
            console.log(describe(status));
          });
        },
      );
  move(
    'promote',
    'promotion',
    'ask to promote an agent one tier; applies when the approvals the tier needs are in',
  );
  move('demote', 'demotion', 'demote an agent one tier, at once');
  move('reinstate', 'reinstatement', 'ask to reinstate a revoked or suspended agent; applies when approved');

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
          if (plan.queued) {
            // The kill switch held without the ledger: say so, and that nothing needs doing again.
            console.log(`revoked ${id} (${plan.revocationId}) at once in the state store`);
            console.log(
              'the ledger cannot be written now: the revocation waits in the safety journal and the service records it, with this time, as soon as it can',
            );
            return;
          }
          console.log(`${plan.dryRun ? 'would revoke' : 'revoked'} ${id} (${plan.revocationId}); effects:`);
          const status = plan.dryRun ? null : revocations.status(id);
          for (const effect of plan.effects)
            console.log(`  ${effect}: ${status?.effects[effect] ?? 'planned'}`);
          if (!plan.dryRun && !status?.confirmed)
            console.log('not yet confirmed: the service makes the remaining calls and records each outcome');
        });
      },
    );

  const promotions = program
    .command('promotions')
    .description('pending promotions, demotions and reinstatements, and their votes');
  promotions
    .command('list')
    .description('every promotion request, newest first')
    .option('--agent <id>', 'only this agent')
    .action(async (opts: { agent?: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const ids = requestedPromotionIds(rt.ledger, opts.agent);
        const { promotions: machine } = machines(rt);
        if (ids.length === 0) return console.log('no promotion requests');
        for (const id of ids) console.log(describe(machine.statusOf(id)!));
      });
    });
  for (const verdict of ['approve', 'reject'] as const) {
    promotions
      .command(`${verdict} <promotionId>`)
      .description(`${verdict} a pending request as an approver (or council member)`)
      .requiredOption('--as <login>', 'your GitHub login, as in the organisation config')
      .option('--reason <text>', 'why', '')
      .action(async (id: string, opts: { as: string; reason: string }, command: Command) => {
        await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
          await rt.governance.restoreState();
          console.log(describe(await machines(rt).promotions.vote(id, opts.as, verdict, opts.reason)));
        });
      });
  }

  const vault = program.command('vault').description('Vault tier policies and agent AppRoles');
  const secrets = async () => {
    const env = readEnv();
    const config = readVaultConfig(env);
    if (!config)
      throw new UserError(
        'vault_off',
        'Vault is not configured: set VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID and VAULT_SECRET_ID)',
      );
    // Loaded on use: node-vault and its HTTP client are not needed by any other command.
    const { VaultSecrets } = await import('../secrets/vault-secrets.js');
    return new VaultSecrets(config, loadOrgConfig(env.GOVERNANCE_CONFIG).config);
  };
  vault
    .command('status')
    .description("Vault's health (active, standby, sealed, uninitialised)")
    .action(async () => {
      const h = await (await secrets()).health().catch((e: Error) => {
        throw new UserError('vault_unreachable', `cannot reach Vault: ${e.message}`);
      });
      console.log(`vault: ${h.state} (${h.detail})`);
      if (h.state === 'down') process.exitCode = 1;
    });
  vault
    .command('bootstrap')
    .description('write the tier policies, enable AppRole, and create a role per registered agent')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const agents = Object.values(rt.checkpoints.stateAtHead().state.agents).map((a) => ({
          id: a.id,
          tier: a.tier,
        }));
        const calls = await (await secrets()).bootstrap(agents).catch((e: Error) => {
          throw new UserError('vault_failed', `Vault refused the bootstrap: ${e.message}`);
        });
        console.log(
          table(
            ['call', 'path', 'detail'],
            calls.map((c) => [c.op, c.path, c.detail]),
          ),
        );
      });
    });
}
