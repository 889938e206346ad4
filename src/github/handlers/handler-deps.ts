import type { Governance } from '../../governance/governance.js';
import type { PullRequestOutcomes } from '../../governance/pr-outcomes.js';
import type { DeploymentGate } from '../deployment-gate.js';
import type { MergeGroupCheck } from '../merge-group-check.js';
import type { PolicyCache } from '../policy-cache.js';
import type { PullRequestGate } from '../pull-request-gate.js';

/** What the webhook handlers work with: built once by `governanceApp`, shared by every handler. */
export interface HandlerDeps {
  governance: Governance;
  gate: PullRequestGate;
  /** The policy files read from GitHub (the gate's own cache). */
  policies: PolicyCache;
  outcomes: PullRequestOutcomes;
  mergeGroups: MergeGroupCheck;
  deployments: DeploymentGate;
  /** The ledger sequence of the stored delivery with this id (Probot's `context.id`). */
  seq: (deliveryId: string) => number;
  /** This GitHub App's id: a click on a check another app created is not ours (null: not known). */
  appId: number | null;
  /** Why approvers cannot be reminded in Slack (no bot token, no approvals channel); null: they can. */
  slackUnavailable: string | null;
}

/** A webhook's repository, as the edge schema parsed it. */
export interface Repo {
  name: string;
  owner: { login: string };
  default_branch: string;
  full_name: string;
}
