import type { App } from '@slack/bolt';
import type { SlackCommand } from '../../core/org-config.js';
import { isUserError } from '../../platform/errors.js';
import type { SlackDeps } from '../slack-deps.js';
import { answerCommand, COMMANDS, type CommandName } from './agent-answers.js';

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
  await deps.governance.store
    .append({
      type: 'api.refused',
      agentId,
      actor: user,
      payload: {
        method: 'SLASH',
        path: what,
        status: 403,
        reason: `not allowed to run /agent ${command} by the organisation config`,
      },
    })
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
      const answer = await answerCommand(name as CommandName, args, command.user_id, deps);
      if (typeof answer !== 'string') return ack({ response_type: 'ephemeral', ...answer });
      await reply(answer);
    } catch (error) {
      if (isUserError(error)) return reply(error.message);
      deps.logger.error({ err: error, command: name }, '/agent failed');
      return reply('Something went wrong on our side; it is in the service log.');
    }
  });
}
