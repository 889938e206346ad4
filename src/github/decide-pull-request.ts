import type { ProbotOctokit } from 'probot';
import type { AgentRecord } from '../core/agent.js';
import { tierCapabilities } from '../core/org-config.js';
import type { Attribution } from '../core/policy/decision.js';
import { diffHash, evaluate } from '../core/policy/evaluate.js';
import { evaluationInputsKey } from '../core/policy/evaluation-inputs.js';
import type { Policy } from '../core/policy/policy-schema.js';
import type { PullRequestFacts } from '../core/policy/pull-request-facts.js';
import { secretMatchersOf } from '../core/policy/rules.js';
import type { Governance } from '../governance/governance.js';
import { gatherFacts } from './gather-facts.js';
import type { PullRequestTarget } from './pull-request-target.js';
import { scanInSlices } from './scan-in-slices.js';

/** The agent a PR is tied to, and how. */
export interface Identified {
  agent: AgentRecord;
  attribution: Attribution;
}

/** What an agent's PR is decided on besides its facts: the policy, its agent, and the instant. */
export interface DecideOn {
  policy: Policy;
  identified: Identified;
  /** The co-authors its commits name (trailers): facts the rules read. */
  coAuthors: string[];
  now: Date;
  /** Who owns what (`approvers: codeowners` gates), read when the policy has such a gate. */
  codeOwners?: PullRequestFacts['codeOwners'];
}

/**
 * An agent's PR → its facts from GitHub → the core's decision, with the key of every input it was
 * decided with (equal keys: the same decision, nothing to write).
 */
export async function decidePullRequest(
  g: Governance,
  octokit: ProbotOctokit,
  target: PullRequestTarget,
  { policy, identified, coAuthors, now, codeOwners }: DecideOn,
) {
  const { agent, attribution } = identified;
  const repository = `${target.owner}/${target.repo}`;
  const scanned = await scannedFacts(
    policy,
    gatherFacts(octokit, target, coAuthors, {
      needChecks: policy.rules.required_checks.enabled && policy.rules.required_checks.checks.length > 0,
    }),
  );
  const facts = codeOwners ? { ...scanned, codeOwners } : scanned;
  const inputs = await inputsKeyOf(g, target, diffHash(facts), policy.version, agent, codeOwners);
  // The request began to wait with the first decision at this head that needed people (or now).
  const since = (await g.waitingSince(repository, target.pr.number, target.pr.headSha)) ?? now.toISOString();
  const decision = evaluate(
    policy,
    tierCapabilities(g.config, agent.tier),
    facts,
    {
      agent,
      receipts: await g.receiptsFor(repository, target.pr.number),
      org: await g.configWithCouncil(),
      agentIdentities: g.agentIdentities(),
      waitingSince: since,
      attribution,
    },
    now,
  );
  return { facts, decision, inputs };
}

/** Everything a PR's decision depends on, as one key: the PR, its diff, the policy, the agent, the votes. */
export async function inputsKeyOf(
  g: Governance,
  t: PullRequestTarget,
  diff: string,
  policyVersion: string,
  agent: AgentRecord,
  codeOwners?: unknown,
): Promise<string> {
  const { headSha, baseRef, title, draft, author } = t.pr;
  return evaluationInputsKey({
    pr: { headSha, baseRef, title, draft, author },
    diffHash: diff,
    policyVersion,
    agent,
    receipts: await g.receiptsFor(`${t.owner}/${t.repo}`, t.pr.number),
    agentIdentities: g.agentIdentities(),
    org: await g.configWithCouncil(),
    ...(codeOwners === undefined ? {} : { codeOwners }),
  });
}

/**
 * The PR's facts with its secret scan already run, in slices that give the event loop back: the
 * one step whose cost a policy's patterns decide, so the one kept off the loop's critical path.
 */
export async function scannedFacts(
  policy: Policy,
  pending: Promise<PullRequestFacts>,
): Promise<PullRequestFacts> {
  const facts = await pending;
  if (!policy.rules.secrets.enabled) return facts;
  const { slices: _slices, ...secretScan } = await scanInSlices(facts.files, secretMatchersOf(policy));
  return { ...facts, secretScan };
}
