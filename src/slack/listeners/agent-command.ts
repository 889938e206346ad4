import type { App } from '@slack/bolt';
import type { SlackCommand } from '../../core/org-config.js';
import { describeSuggestion } from '../../core/suggestions.js';
import { tierLabel } from '../../core/tiers.js';
import { pauseAgent } from '../../governance/safety-actions.js';
import { fleetViewQueries } from '../../ledger/queries/fleet-views.js';
import { isUserError, UserError } from '../../platform/errors.js';
import { Watcher } from '../../watchers/watcher.js';
import { promotionRequestedText, suggestionBlocks } from '../blocks.js';
import type { SlackDeps } from '../slack-deps.js';

export const COMMANDS: Record<'help' | SlackCommand, { usage: string; admin: boolean; help: string }> = {
  help: { usage: 'help', admin: false, help: 'this list' },
  list: { usage: 'list', admin: false, help: 'every agent with its tier and status' },
  status: {
    usage: 'status <agent>',
    admin: false,
    help: 'tier, status, budget, locks, last activity, open PRs',
  },
  audit: { usage: 'audit <agent> [n]', admin: false, help: 'the newest ledger entries of an agent' },
  promote: { usage: 'promote <agent> [tier]', admin: true, help: 'ask for a one-tier promotion' },
  demote: { usage: 'demote <agent>', admin: true, help: 'demote one tier, at once' },
  revoke: { usage: 'revoke <agent> <reason>', admin: true, help: 'the kill switch' },
  reinstate: { usage: 'reinstate <agent>', admin: true, help: 'ask to reinstate a revoked agent' },
  suggest: {
    usage: 'suggest',
    admin: false,
    help: 'what the record suggests (promotions, demotions, rules)',
  },
  pause: { usage: 'pause <agent>', admin: true, help: 'suspend an agent until resumed' },
  resume: { usage: 'resume <agent>', admin: true, help: 'resume a paused or budget-suspended agent' },
};

/**
 * Whether a Slack user may run an `/agent` command (or its button): those `slack.commands` lists
 * for it, else the admins for a command that changes something and everyone for the others. A
 * refusal is recorded with who asked for what.
 */
export async function mayRun(
  deps: SlackDeps,
  user: string,
  command: SlackCommand,
  what: string,
  agentId: string | null,
): Promise<boolean> {
  const slack = deps.governance.config.slack;
  const allowed = slack.commands[command] ?? (COMMANDS[command]!.admin ? slack.admins : null);
  if (allowed === null || allowed.includes(user)) return true;
  await deps.governance.ledger
    .appendSoon([
      {
        type: 'api.refused',
        agentId,
        actor: user,
        payload: {
          method: 'SLASH',
          path: what,
          status: 403,
          reason: `not allowed to run /agent ${command} by the organisation config`,
        },
      },
    ])
    .catch(() => undefined);
  return false;
}

/** `/agent …`: acknowledged with the answer, ephemerally; every error is one clear line. */
export function registerAgentCommand(app: App, deps: SlackDeps): void {
  app.command('/agent', async ({ command, ack }) => {
    const [name = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const spec = Object.hasOwn(COMMANDS, name) ? COMMANDS[name as keyof typeof COMMANDS] : undefined;
    const reply = (text: string) => ack({ response_type: 'ephemeral', text });
    if (!spec) return reply(`Unknown command \`${name}\`. Try \`/agent help\`.`);
    if (
      name !== 'help' &&
      !(await mayRun(deps, command.user_id, name as SlackCommand, `/agent ${name}`, args[0] ?? null))
    )
      return reply(
        `You may not run \`/agent ${name}\`: the organisation config names who may (slack.${deps.governance.config.slack.commands[name as SlackCommand] ? `commands.${name}` : 'admins'}).`,
      );
    try {
      const answer = await run(name, args, command.user_id, deps);
      if (typeof answer !== 'string') return ack({ response_type: 'ephemeral', ...answer });
      await reply(answer);
    } catch (error) {
      if (isUserError(error)) return reply(error.message);
      deps.logger.error({ err: error, command: name }, '/agent failed');
      return reply('Something went wrong on our side; it is in the service log.');
    }
  });
}

async function run(
  name: string,
  args: string[],
  user: string,
  deps: SlackDeps,
): Promise<string | { text: string; blocks: unknown[] }> {
  const g = deps.governance;
  const actor = `slack:${user}`;
  const need = (n: number) => {
    if (args.length < n)
      throw new UserError('usage', `Usage: \`/agent ${COMMANDS[name as keyof typeof COMMANDS].usage}\``);
  };
  switch (name) {
    case 'help':
      return Object.values(COMMANDS)
        .map((c) => `\`/agent ${c.usage}\`: ${c.help}${c.admin ? ' (admins)' : ''}`)
        .join('\n');
    case 'list': {
      const agents = await g.state.listAgents();
      return agents.length
        ? agents.map((a) => `\`${a.id}\` ${tierLabel(a.tier)}, ${a.status}`).join('\n')
        : 'No agents registered.';
    }
    case 'status': {
      need(1);
      const agent = await g.state.getAgent(args[0]!);
      if (!agent) return `No agent \`${args[0]}\`.`;
      const windowStart = Date.now() - g.config.budgets.window_hours * 3600_000;
      const used = await g.state.budgetUsed(agent.id, windowStart);
      const executions = (await g.state.listExecutions()).filter((e) => e.agentId === agent.id);
      const last = g.ledger.latestForAgent(agent.id, 1)[0];
      const open = fleetViewQueries(g.ledger).openPullRequests(agent.id);
      const revocation = deps.revocations.status(agent.id);
      const revoked =
        agent.status === 'revoked' && revocation
          ? ` (${revocation.confirmed ? 'revocation confirmed' : 'revocation NOT confirmed yet'})`
          : '';
      return [
        `*${agent.id}* ${tierLabel(agent.tier)}, ${agent.status}${revoked}`,
        `budget: ${used} of ${g.config.budgets.limit} in ${g.config.budgets.window_hours} h`,
        `locks: ${executions.map((e) => e.lockKey).join(', ') || 'none'}`,
        `last activity: ${last ? `${last.type} at ${last.ts}` : 'none'}`,
        `open PRs: ${open.map((o) => `${o.repository}#${o.number}`).join(', ') || 'none'}`,
        // What each waiting request and promotion needs, from the one tally.
        ...deps.approvals
          .pending()
          .filter((c) => c.agentId === agent.id)
          .map(
            (c) =>
              `waiting: ${c.repository}#${c.number}: ${deps.approvals
                .tallies(c)
                .map((t) => t.description.replaceAll('`', ''))
                .join('; ')}`,
          ),
        ...(() => {
          const p = deps.promotions.pendingFor(agent.id);
          return p
            ? [`${p.kind} ${p.promotionId}: ${deps.promotions.tally(p).description.replaceAll('`', '')}`]
            : [];
        })(),
      ].join('\n');
    }
    case 'audit': {
      need(1);
      const n = Math.min(Math.max(Number(args[1] ?? 10) || 10, 1), 50);
      const entries = g.ledger.latestForAgent(args[0]!, n);
      return entries.length
        ? entries.map((e) => `${e.seq} ${e.ts} ${e.type} by ${e.actor}`).join('\n')
        : `No ledger entries for \`${args[0]}\`.`;
    }
    case 'promote':
    case 'demote':
    case 'reinstate': {
      need(1);
      const kind = name === 'promote' ? 'promotion' : name === 'demote' ? 'demotion' : 'reinstatement';
      const p = await deps.promotions.request(args[0]!, actor, { kind, ...(args[1] ? { to: args[1] } : {}) });
      return p.outcome === 'applied'
        ? `${p.agentId}: ${p.from} → ${p.to}, applied.`
        : promotionRequestedText(p);
    }
    case 'revoke': {
      need(2);
      const plan = await deps.revocations.revoke(args[0]!, args.slice(1).join(' '), actor);
      if (plan.queued)
        return `Revoked \`${plan.agentId}\` (${plan.revocationId}) at once: every preflight and gate now denies it. The ledger cannot be written right now, so the revocation waits in the safety journal and is recorded, with this time, as soon as it can be; the other effects (${plan.effects.join(', ')}) follow then.`;
      return `Revoked \`${plan.agentId}\` (${plan.revocationId}). Effects: ${plan.effects.join(', ')}; each is confirmed as it holds.`;
    }
    case 'suggest': {
      const list = new Watcher(g).suggestions();
      if (!list.length) return 'No suggestions.';
      return {
        text: list.map((s) => `• ${describeSuggestion(s)}`).join('\n'),
        blocks: suggestionBlocks(list),
      };
    }
    case 'pause':
    case 'resume': {
      need(1);
      const agent = await g.state.getAgent(args[0]!);
      if (!agent) return `No agent \`${args[0]}\`.`;
      const [from, to] =
        name === 'pause' ? (['active', 'suspended'] as const) : (['suspended', 'active'] as const);
      if (agent.status !== from)
        return `\`${agent.id}\` is ${agent.status}; only a ${from} agent can be ${name === 'pause' ? 'paused' : 'resumed'}.`;
      if (name === 'pause') {
        // A safety action: it holds even when the ledger cannot be written (queued until it can).
        const { queued } = await pauseAgent(g, agent.id, actor, `paused from Slack by ${user}`);
        return queued
          ? `\`${agent.id}\` paused at once. The ledger cannot be written right now: the pause waits in the safety journal and is recorded, with this time, as soon as it can be.`
          : `\`${agent.id}\` paused.`;
      }
      await g.record([
        {
          type: 'agent.status_changed',
          agentId: agent.id,
          actor,
          payload: { from, to, reason: `${name}d from Slack by ${user}` },
        },
      ]);
      return `\`${agent.id}\` resumed.`;
    }
    default:
      return 'Try `/agent help`.';
  }
}
