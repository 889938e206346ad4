import type { App } from '@slack/bolt';
import { tierLabel } from '../../core/tiers.js';
import type { SlackDeps } from '../slack-deps.js';

/** The App Home tab: the agents with their tiers and statuses, and the approvals waiting. */
export function registerAppHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    const agents = await deps.governance.state.listAgents();
    const waiting: string[] = [];
    for (const p of await deps.approvals.pending()) {
      const tallies = await deps.approvals.tallies(p);
      const needs = tallies
        .filter((t) => t.state !== 'approved')
        .map((t) => t.description.replaceAll('`', ''));
      waiting.push(
        `• <${p.url}|${p.repository}#${p.number}> by \`${p.agentId}\`: ${needs.join('; ')} (until ${p.expiresAt})`,
      );
    }
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'Agents' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            agents.map((a) => `\`${a.id}\` ${tierLabel(a.tier)}, ${a.status}`).join('\n') ||
            'No agents registered.',
        },
      },
      { type: 'header', text: { type: 'plain_text', text: 'Waiting for approval' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: waiting.join('\n') || 'Nothing is waiting.',
        },
      },
    ];
    await deps.enqueue(
      'views.publish',
      { user_id: event.user, view: { type: 'home', blocks } },
      `home:${event.user}`,
      `home:${event.user}:${Date.now()}`,
    );
  });
}
