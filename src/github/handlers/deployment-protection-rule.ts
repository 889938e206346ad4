import type { Probot } from 'probot';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import type { HandlerDeps } from './handler-deps.js';

/** `deployment_protection_rule.requested`: this app is an environment's gate; it answers the run. */
export function registerDeploymentProtectionRuleHandler(
  app: Probot,
  { deployments, seq }: HandlerDeps,
): void {
  app.on('deployment_protection_rule.requested', async (context) => {
    const p = WEBHOOK_SCHEMAS.deployment_protection_rule.parse(context.payload);
    await deployments.requested(context.octokit, p, seq(context.id));
  });
}
