/** What each `/agent` command answers: one handler per command, each a screen at most. */
import type { SlackCommand } from '../../core/org-config.js';
import { describeSuggestion } from '../../core/suggestions.js';
import { tierLabel } from '../../core/tiers.js';
import { pauseAgent } from '../../governance/safety-actions.js';
import { fleetViewsAsync } from '../../ledger/queries/fleet-views.js';
import { UserError } from '../../platform/errors.js';
import { Watcher } from '../../watchers/watcher.js';
import { promotionRequestedText, suggestionBlocks } from '../blocks.js';
import type { SlackDeps } from '../slack-deps.js';

export type CommandName = 'help' | SlackCommand;

export const COMMANDS: Record<CommandName, { usage: string; admin: boolean; help: string }> = {
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

export type Answer = string | { text: string; blocks: unknown[] };

/** One command as asked: its name, its words, who asked, and what the listeners work with. */
interface Asked {
  name: CommandName;
  args: string[];
  user: string;
  deps: SlackDeps;
}

const ANSWERS: Record<CommandName, (a: Asked) => Promise<Answer> | Answer> = {
  help: () =>
    Object.values(COMMANDS)
      .map((c) => `\`/agent ${c.usage}\`: ${c.help}${c.admin ? ' (admins)' : ''}`)
      .join('\n'),
  list: async ({ deps }) => {
    const agents = await deps.governance.state.listAgents();
    return agents.length
      ? agents.map((a) => `\`${a.id}\` ${tierLabel(a.tier)}, ${a.status}`).join('\n')
      : 'No agents registered.';
  },
  status,
  audit: async (a) => {
    const [agentId] = need(a, 1);
    const n = Math.min(Math.max(Number(a.args[1] ?? 10) || 10, 1), 50);
    const entries = await fleetViewsAsync.recentActions(a.deps.governance.store.reader, agentId, n);
    return entries.length
      ? entries.map((e) => `${e.seq} ${e.ts} ${e.type} by ${e.actor}`).join('\n')
      : `No ledger entries for \`${agentId}\`.`;
  },
  promote: requestTierChange,
  demote: requestTierChange,
  reinstate: requestTierChange,
  revoke: async (a) => {
    const [agentId] = need(a, 2);
    const plan = await a.deps.revocations.revoke(agentId, a.args.slice(1).join(' '), `slack:${a.user}`);
    if (plan.queued)
      return `Revoked \`${plan.agentId}\` (${plan.revocationId}) at once: every preflight and gate now denies it. The ledger cannot be written right now, so the revocation waits in the safety journal and is recorded, with this time, as soon as it can be; the other effects (${plan.effects.join(', ')}) follow then.`;
    return `Revoked \`${plan.agentId}\` (${plan.revocationId}). Effects: ${plan.effects.join(', ')}; each is confirmed as it holds.`;
  },
  suggest: async ({ deps }) => {
    const list = await new Watcher(deps.governance).suggestions();
    if (!list.length) return 'No suggestions.';
    return { text: list.map((s) => `• ${describeSuggestion(s)}`).join('\n'), blocks: suggestionBlocks(list) };
  },
  pause: pauseOrResume,
  resume: pauseOrResume,
};

/** The answer to `/agent <name> <args…>`; a mistake a person made is thrown as a `UserError`. */
export async function answerCommand(
  name: CommandName,
  args: string[],
  user: string,
  deps: SlackDeps,
): Promise<Answer> {
  return ANSWERS[name]({ name, args, user, deps });
}

/** The command's first words, or its usage as the answer when fewer were given. */
function need({ name, args }: Asked, n: number): [string, ...string[]] {
  if (args.length < n) throw new UserError('usage', `Usage: \`/agent ${COMMANDS[name].usage}\``);
  return args as [string, ...string[]];
}

async function status(a: Asked): Promise<string> {
  const [agentId] = need(a, 1);
  const { governance: g, revocations } = a.deps;
  const agent = await g.state.getAgent(agentId);
  if (!agent) return `No agent \`${agentId}\`.`;
  const windowStart = Date.now() - g.config.budgets.window_hours * 3600_000;
  const used = await g.state.budgetUsed(agent.id, windowStart);
  const executions = (await g.state.listExecutions()).filter((e) => e.agentId === agent.id);
  const [last] = await fleetViewsAsync.recentActions(g.store.reader, agent.id, 1);
  const open = await fleetViewsAsync.openPullRequests(g.store.reader, agent.id);
  const revocation = await revocations.status(agent.id);
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
    ...(await waiting(a.deps, agent.id)),
  ].join('\n');
}

/** What each waiting request and promotion of an agent needs, from the one tally. */
async function waiting({ approvals, promotions }: SlackDeps, agentId: string): Promise<string[]> {
  const requests: string[] = [];
  for (const c of (await approvals.pending()).filter((c) => c.agentId === agentId)) {
    const tallies = await approvals.tallies(c);
    requests.push(
      `waiting: ${c.repository}#${c.number}: ${tallies.map((t) => t.description.replaceAll('`', '')).join('; ')}`,
    );
  }
  const p = await promotions.pendingFor(agentId);
  const promotion = p
    ? [`${p.kind} ${p.promotionId}: ${(await promotions.tally(p)).description.replaceAll('`', '')}`]
    : [];
  return [...requests, ...promotion];
}

async function requestTierChange(a: Asked): Promise<string> {
  const [agentId, to] = need(a, 1);
  const kind = a.name === 'promote' ? 'promotion' : a.name === 'demote' ? 'demotion' : 'reinstatement';
  const p = await a.deps.promotions.request(agentId, `slack:${a.user}`, { kind, ...(to ? { to } : {}) });
  return p.outcome === 'applied' ? `${p.agentId}: ${p.from} → ${p.to}, applied.` : promotionRequestedText(p);
}

async function pauseOrResume(a: Asked): Promise<string> {
  const [agentId] = need(a, 1);
  const { name, user } = a;
  const g = a.deps.governance;
  const agent = await g.state.getAgent(agentId);
  if (!agent) return `No agent \`${agentId}\`.`;
  const [from, to] =
    name === 'pause' ? (['active', 'suspended'] as const) : (['suspended', 'active'] as const);
  if (agent.status !== from)
    return `\`${agent.id}\` is ${agent.status}; only a ${from} agent can be ${name === 'pause' ? 'paused' : 'resumed'}.`;
  if (name === 'pause') {
    // A safety action: it holds even when the ledger cannot be written (queued until it can).
    const { queued } = await pauseAgent(g, agent.id, `slack:${user}`, `paused from Slack by ${user}`);
    return queued
      ? `\`${agent.id}\` paused at once. The ledger cannot be written right now: the pause waits in the safety journal and is recorded, with this time, as soon as it can be.`
      : `\`${agent.id}\` paused.`;
  }
  await g.record([
    {
      type: 'agent.status_changed',
      agentId: agent.id,
      actor: `slack:${user}`,
      payload: { from, to, reason: `${name}d from Slack by ${user}` },
    },
  ]);
  return `\`${agent.id}\` resumed.`;
}
