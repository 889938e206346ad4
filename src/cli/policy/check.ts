import type { Command } from 'commander';
import { loadOrgConfig } from '../../config/load-org-config.js';
import { readEnv } from '../../config/read-env.js';
import type { AgentRecord } from '../../core/agent.js';
import { tierCapabilities } from '../../core/org-config.js';
import type { Decision } from '../../core/policy/decision.js';
import { evaluate } from '../../core/policy/evaluate.js';
import type { Policy } from '../../core/policy/policy-schema.js';
import type { ChangedFile, PullRequestFacts } from '../../core/policy/pull-request-facts.js';
import { isTierId, TIER_IDS, type TierId, tierLabel } from '../../core/tiers.js';
import { systemClock } from '../../platform/clock.js';
import { UserError } from '../../platform/errors.js';
import { withRuntime } from '../context.js';
import { EXIT, table } from '../output.js';
import { filesFrom } from './changed-files.js';
import { loadPolicyFile } from './policy-file.js';

interface CheckOptions {
  policy?: string;
  org?: string;
  agent?: string;
  tier?: string;
  files?: string;
  diff?: string;
}

/** `agov policy check`: a PR evaluated offline, its decision table printed; exit 0 on allow. */
export function registerPolicyCheck(policy: Command): void {
  policy
    .command('check')
    .description('evaluate a PR offline and print the decision table (exit 0 allow, 1 otherwise)')
    .option('--policy <file>', 'the policy file (default: the built-in default template)')
    .option(
      '--org <file>',
      "the organisation's .github policy (its enforced rules apply; without --policy, it is the policy)",
    )
    .option('--agent <id>', 'a registered agent (its tier and status come from the ledger)')
    .option('--tier <tier>', `a tier instead of an agent (${TIER_IDS.join(', ')})`)
    .option('--files <paths>', 'changed paths, comma-separated')
    .option('--diff <file>', 'a unified diff (git diff output) of the change')
    .action(async (opts: CheckOptions, command: Command) => {
      const resolved = loadPolicyFile(opts.policy, opts.org);
      if (!resolved) {
        process.exitCode = EXIT.usage;
        return;
      }
      const files = filesFrom(opts);
      const org = loadOrgConfig(readEnv().GOVERNANCE_CONFIG).config;
      const agent = opts.agent ? await registeredAgent(command, opts.agent) : candidate(opts.tier);
      // No runtime here (--tier needs no ledger): the command reads the system clock itself.
      const decision = evaluate(
        resolved,
        tierCapabilities(org, agent.tier),
        localPullRequest(agent, files),
        { agent, receipts: [], org },
        systemClock.now(),
      );
      printDecision(decision, agent, resolved);
      process.exitCode = decision.outcome === 'allow' ? EXIT.ok : EXIT.checkFailed;
    });
}

async function registeredAgent(command: Command, id: string): Promise<AgentRecord> {
  return withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
    const found = (await rt.governance.checkpoints.stateAtHead()).state.agents[id];
    if (!found)
      throw new UserError('agent_unknown', `no agent "${id}" is registered; see \`agov agents list\``);
    return found;
  });
}

/** An unregistered, active agent at the tier given with --tier. */
function candidate(tierOption: string | undefined): AgentRecord {
  const tier = (tierOption ?? '').toUpperCase();
  if (!isTierId(tier)) throw new UserError('usage', `give --agent ID or --tier (${TIER_IDS.join(', ')})`);
  return {
    id: 'candidate',
    name: 'candidate',
    owner: null,
    tier: tier as TierId,
    status: 'active',
    identities: { githubLogins: [], trailers: [] },
    tokenHash: null,
    registeredAt: '',
    tierSince: '',
  };
}

function localPullRequest(agent: AgentRecord, files: ChangedFile[]): PullRequestFacts {
  return {
    repository: 'local/check',
    number: 0,
    title: '',
    url: '',
    author: agent.id,
    headSha: '0'.repeat(40),
    baseRef: 'main',
    draft: false,
    files,
    coAuthors: [],
    checks: [],
  };
}

function printDecision(decision: Decision, agent: AgentRecord, resolved: Policy): void {
  console.log(`${decision.outcome.toUpperCase()}: ${decision.summary}`);
  console.log(
    `agent ${agent.id}, ${tierLabel(agent.tier)}; ${decision.changedFiles} files, ${decision.changedLines} lines; policy ${resolved.source}\n`,
  );
  console.log(
    table(
      ['stage', 'rule', 'outcome', 'what it saw', 'from'],
      decision.rules.map((r) => [
        r.stage,
        r.rule,
        r.status === 'fire' ? `fire (${r.action})` : r.status,
        r.summary,
        resolved.origins.rules[r.rule] ?? '-',
      ]),
    ),
  );
  for (const a of decision.rules.flatMap((r) => r.annotations))
    console.log(`  ${a.path}:${a.startLine}: ${a.title}: ${a.message}`);
}
