import type { App } from '@slack/bolt';
import type { SlackDeps } from '../slack-deps.js';
import { registerAgentCommand } from './agent-command.js';
import { registerAppHome } from './app-home.js';
import { registerApprovalListeners } from './approval-actions.js';
import { registerPromotionListeners } from './promotion-actions.js';

/** Every Slack listener, by kind: the `/agent` command, approval and promotion buttons, the App Home. */
export function registerListeners(app: App, deps: SlackDeps): void {
  registerAgentCommand(app, deps);
  registerApprovalListeners(app, deps);
  registerAppHome(app, deps);
  registerPromotionListeners(app, deps);
}
