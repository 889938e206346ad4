import type { Probot, ProbotOctokit } from 'probot';
import type { z } from 'zod';
import type { AgentRecord } from '../core/agent.js';
import { deploymentApprovalKeyOf, isDeploymentApprovalKey } from '../core/approval-key.js';
import { deploymentAnswer, tallyDeployment } from '../core/deployment-approval.js';
import {
  type DeploymentActor,
  type DeploymentFacts,
  type DeploymentVerdict,
  decideDeployment,
} from '../core/deployment-gate.js';
import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import { tierCapabilities } from '../core/org-config.js';
import { gateRule } from '../core/policy/gate-statuses.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { decisionViewsAsync } from '../ledger/queries/decision-views.js';
import { type LoadedPolicy, loadPolicy } from './load-policy.js';
import type { PolicyCache } from './policy-cache.js';
import { runIdOf, type WEBHOOK_SCHEMAS } from './webhook-schemas.js';

export type DeploymentProtectionRuleEvent = z.infer<(typeof WEBHOOK_SCHEMAS)['deployment_protection_rule']>;

export const DEPLOYMENT_REVIEW_KIND = 'deployment_protection_rule.review';

/** The answer to GitHub, through the outbox: approved or rejected, or a comment while it waits. */
export interface DeploymentReviewPayload {
  installationId: number;
  owner: string;
  repo: string;
  runId: number;
  environment: string;
  state: 'approved' | 'rejected' | null;
  comment: string;
}

/**
 * `deployment_protection_rule.requested`: who is behind the deployment → the core's verdict →
 * the ledger entry and the answer to GitHub in one transaction (the outbox delivers it).
 */
export class DeploymentGate {
  constructor(
    private readonly governance: Governance,
    private readonly onOutbox: () => void,
    private readonly policies: PolicyCache,
  ) {}

  async requested(octokit: ProbotOctokit, e: DeploymentProtectionRuleEvent, causeSeq: number): Promise<void> {
    const g = this.governance;
    const owner = e.repository.owner.login;
    const repo = e.repository.name;
    // The edge schema refused any other URL: the answer goes to the configured GitHub API, so the
    // installation's token is never sent to a URL a payload chose.
    const runId = runIdOf(e.deployment_callback_url, e.repository.full_name)!;
    const creator = e.deployment?.creator?.login ?? null;
    const sender = e.sender?.login ?? null;
    const found = await this.whoIsBehind(creator, sender, e.deployment?.payload);
    const loaded = await loadPolicy(octokit, owner, repo, e.repository.default_branch, this.policies);
    // A revocation holds in the state store even before the ledger has it.
    const revoked = found ? (await g.state.getRevokeSignal(found.agent.id)) !== null : false;
    const org = await g.configWithCouncil();
    await g.store.appendDecided(async ({ reader }) => {
      // Read inside the write: a revocation cannot slip in between.
      const actor = await this.actorOf(reader, found, revoked, creator ?? sender ?? 'unknown');
      const decided = decideDeployment({ environment: e.environment, actor, policy: policyFacts(loaded) });
      const { verdict, approval } = await this.withRequest(reader, decided, e, runId, found, loaded, org);
      const entry = decidedEntry(e, { runId, creator, sender, found, loaded, verdict, approval });
      const answer: DeploymentReviewPayload = {
        installationId: e.installation.id,
        owner,
        repo,
        runId,
        environment: e.environment,
        state: verdict.state === 'waiting' ? null : verdict.state,
        comment: verdict.comment,
      };
      return { entries: [entry], outbox: [deploymentReviewMessage(answer, causeSeq)] };
    });
    await g.syncState();
    this.onOutbox();
  }

  /**
   * A deployment that waits on a gate becomes a request for people, as a PR's does: the gate
   * resolved from the policy and the organisation's approvers and council, the deadline running
   * from now. A gate nobody may open (no approvers: nobody) rejects it at once instead of leaving
   * the run hanging.
   */
  private async withRequest(
    reader: LedgerReader,
    decided: DeploymentVerdict,
    e: DeploymentProtectionRuleEvent,
    runId: number,
    found: Behind | null,
    loaded: LoadedPolicy,
    org: OrgConfig,
  ): Promise<{ verdict: DeploymentVerdict; approval: DeploymentApproval | undefined }> {
    if (decided.state !== 'waiting' || !decided.gate || !found || !loaded.ok)
      return { verdict: decided, approval: undefined };
    const g = this.governance;
    const ref = { repository: e.repository.full_name, runId, environment: e.environment };
    if (!isDeploymentApprovalKey(ref))
      return {
        verdict: rejectedBecause(decided, 'the environment cannot be named on an approval'),
        approval: undefined,
      };
    const approval: DeploymentApproval = {
      key: deploymentApprovalKeyOf(ref),
      agentId: found.agent.id,
      // As a PR's card reads it: the owner the agent was registered with.
      owner: (await decisionViewsAsync.agentOwner(reader, found.agent.id)) ?? found.agent.owner,
      rule: gateRule(loaded.policy, decided.gate, org),
      requestedAt: g.clock.now().toISOString(),
    };
    const tally = tallyDeployment(approval, [], g.directory(), g.clock.now());
    if (deploymentAnswer(tally) === 'rejected')
      return { verdict: rejectedBecause(decided, tally.description), approval: undefined };
    return { verdict: decided, approval };
  }

  /** Who the core judges: the agent found, with its status read inside the write, or a person. */
  private async actorOf(
    reader: LedgerReader,
    found: Behind | null,
    revoked: boolean,
    person: string,
  ): Promise<DeploymentActor> {
    const g = this.governance;
    if (!found) return { kind: 'person', login: person };
    return {
      kind: 'agent',
      agentId: found.agent.id,
      login: found.login,
      strength: found.strength,
      via: found.via,
      tier: found.agent.tier,
      // Read inside the write: a revocation cannot slip in between.
      status: revoked
        ? 'revoked'
        : ((await agentsAsync.agentStatus(reader, found.agent.id)) ?? found.agent.status),
      tierMayDeploy: tierCapabilities(g.config, found.agent.tier).actions.includes('deploy'),
    };
  }

  /**
   * The agent behind a deployment. Authenticated: its creator, or whoever set off the run, is one
   * of the agent's logins (GitHub vouches for both). Claimed: only the deployment's own payload
   * names the agent (`{"agent": "id"}`), which whoever created it could write.
   */
  private async whoIsBehind(
    creator: string | null,
    sender: string | null,
    payload: unknown,
  ): Promise<Behind | null> {
    for (const [login, role] of [
      [creator, 'deployment creator'],
      [sender, 'run actor'],
    ] as const) {
      if (!login) continue;
      const found = await this.governance.identifyAgent(login, []);
      if (found?.attribution.strength === 'authenticated')
        return { agent: found.agent, login, strength: 'authenticated', via: `${role} ${login}` };
    }
    const claimed = (payload as { agent?: unknown } | null | undefined)?.agent;
    if (typeof claimed !== 'string') return null;
    const agent = (await this.governance.state.listAgents()).find((a) => a.id === claimed);
    const login = creator ?? sender ?? 'unknown';
    return agent ? { agent, login, strength: 'claimed', via: `deployment payload of ${login}` } : null;
  }
}

/** The agent behind a deployment, and how it was tied to it. */
interface Behind {
  agent: AgentRecord;
  login: string;
  strength: 'authenticated' | 'claimed';
  via: string;
}

/** The policy as the core's deployment rule reads it: its environments and gates, or why it failed. */
function policyFacts(loaded: LoadedPolicy): DeploymentFacts['policy'] {
  return loaded.ok
    ? { ok: true, environments: loaded.policy.environments, gates: Object.keys(loaded.policy.gates) }
    : { ok: false, problem: loaded.problems.join('; ') };
}

/** The `deployment.decided` entry: the request, who was behind it, and the core's verdict. */
function decidedEntry(
  e: DeploymentProtectionRuleEvent,
  d: {
    runId: number;
    creator: string | null;
    sender: string | null;
    found: Behind | null;
    loaded: LoadedPolicy;
    verdict: DeploymentVerdict;
    approval: DeploymentApproval | undefined;
  },
): LedgerEntryInput {
  const { found, verdict } = d;
  return {
    type: 'deployment.decided',
    agentId: found?.agent.id ?? null,
    actor: 'github',
    payload: {
      repository: e.repository.full_name,
      environment: e.environment,
      runId: d.runId,
      deploymentId: e.deployment?.id ?? null,
      sha: e.deployment?.sha ?? null,
      ref: e.deployment?.ref ?? null,
      creator: d.creator,
      sender: d.sender,
      attribution: found ? { strength: found.strength, via: found.via, author: found.login } : null,
      tier: found?.agent.tier ?? null,
      state: verdict.state,
      gate: verdict.gate,
      reasons: verdict.reasons,
      policyVersion: d.loaded.ok ? d.loaded.policy.version : null,
      installationId: e.installation.id,
      ...(d.approval ? { approval: d.approval } : {}),
    },
  };
}

/** The request for people a waiting deployment carries in its entry. */
type DeploymentApproval = NonNullable<LedgerPayload<'deployment.decided'>['approval']>;

/** A waiting verdict turned into a rejection, saying why. */
function rejectedBecause(waiting: DeploymentVerdict, why: string): DeploymentVerdict {
  const reasons = [...waiting.reasons, why];
  return {
    state: 'rejected',
    reasons,
    comment: `Agent Governance: Rejected: ${reasons.join('; ')}.`.slice(0, 1000),
    gate: waiting.gate,
  };
}

/** One answer per delivery: a re-run of the workflow asks again and is answered again. */
export function deploymentReviewMessage(
  p: DeploymentReviewPayload,
  cause: number | string,
): OutboxMessageInput {
  const key = `deployment:${p.owner}/${p.repo}:${p.runId}:${p.environment}`;
  return {
    target: 'github',
    kind: DEPLOYMENT_REVIEW_KIND,
    idempotencyKey: `${key}:${cause}`,
    orderingKey: key,
    payload: p,
  };
}

/** `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`, as the installation. */
export async function deliverDeploymentReview(probot: Probot, p: DeploymentReviewPayload): Promise<void> {
  const octokit = await probot.auth(p.installationId);
  await octokit.rest.actions.reviewCustomGatesForRun({
    owner: p.owner,
    repo: p.repo,
    run_id: p.runId,
    environment_name: p.environment,
    ...(p.state ? { state: p.state } : {}),
    comment: p.comment,
  } as Parameters<typeof octokit.rest.actions.reviewCustomGatesForRun>[0]);
}
