import type { Probot } from 'probot';
import type { Governance } from '../governance/governance.js';
import { PullRequestOutcomes } from '../governance/pr-outcomes.js';
import { DeploymentGate } from './deployment-gate.js';
import { registerCheckRunHandler } from './handlers/check-run.js';
import { registerCheckSuiteHandlers } from './handlers/check-suite.js';
import { registerDeploymentProtectionRuleHandler } from './handlers/deployment-protection-rule.js';
import type { HandlerDeps } from './handlers/handler-deps.js';
import { registerMergeGroupHandler } from './handlers/merge-group.js';
import { registerPullRequestHandlers } from './handlers/pull-request.js';
import { registerPullRequestReviewHandler } from './handlers/pull-request-review.js';
import { registerPushHandler } from './handlers/push.js';
import { registerWorkflowRunHandler } from './handlers/workflow-run.js';
import { MergeGroupCheck } from './merge-group-check.js';
import type { PullRequestGate } from './pull-request-gate.js';

export interface AppDeps {
  governance: Governance;
  gate: PullRequestGate;
  onOutbox: () => void;
  appId: number | null;
  slackUnavailable: string | null;
}

/** One file per webhook event in `./handlers`, each registering what it handles. */
const HANDLERS: ((app: Probot, deps: HandlerDeps) => void)[] = [
  registerPullRequestHandlers,
  registerPushHandler,
  registerCheckRunHandler,
  registerCheckSuiteHandlers,
  registerWorkflowRunHandler,
  registerPullRequestReviewHandler,
  registerDeploymentProtectionRuleHandler,
  registerMergeGroupHandler,
];

/**
 * The Probot application: each handler is event → target → the one gate. Payloads were validated
 * at the edge; the handlers parse them again with the same schemas only to get their types.
 */
export function governanceApp(
  { governance, gate, onOutbox, appId, slackUnavailable }: AppDeps,
  /** The ledger sequence of a delivery being processed, by its id (set by the inbox worker). */
  seqOf: (deliveryId: string) => number,
) {
  const deps: HandlerDeps = {
    governance,
    gate,
    policies: gate.policies,
    outcomes: new PullRequestOutcomes(governance),
    mergeGroups: new MergeGroupCheck(governance, onOutbox),
    deployments: new DeploymentGate(governance, onOutbox, gate.policies),
    seq: seqOf,
    appId,
    slackUnavailable,
  };
  return (app: Probot) => {
    for (const register of HANDLERS) register(app, deps);
  };
}
