import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadOrgConfig } from '../config/load-org-config.js';
import { readEnv } from '../config/read-env.js';
import type { AgentRecord } from '../core/agent.js';
import { tierCapabilities } from '../core/org-config.js';
import { formatProblem } from '../core/parse-yaml.js';
import { resolveWithOrg } from '../core/policy/enforce-policy.js';
import { evaluate } from '../core/policy/evaluate.js';
import { parsePolicyFile } from '../core/policy/load-policy.js';
import type { Policy, PolicyFile } from '../core/policy/policy-schema.js';
import { addedLinesOf, type ChangedFile } from '../core/policy/pull-request-facts.js';
import { resolvePolicy } from '../core/policy/resolve-policy.js';
import { isTierId, TIER_IDS, type TierId, tierLabel } from '../core/tiers.js';
import { backtestPolicy } from '../governance/policy-backtest.js';
import { UserError } from '../platform/errors.js';
import { withRuntime } from './context.js';
import { EXIT, table } from './output.js';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(
      'file_unreadable',
      `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseFile(path: string, what: string): PolicyFile | null {
  const result = parsePolicyFile(readText(path, what), path);
  if (result.ok) return result.value;
  for (const p of result.problems) console.log(formatProblem(p));
  return null;
}

/**
 * Parses and resolves a policy file, with what the organisation's file (`--org`, its `.github`
 * repository's) enforces in force as on GitHub; prints the problems and returns null when either
 * file cannot be used.
 */
function loadPolicyFile(path: string | undefined, orgPath?: string): Policy | null {
  if (!path && !orgPath) return resolvePolicy(null, { source: 'built-in default template' });
  const repo = path ? parseFile(path, 'the policy file') : null;
  const org = orgPath ? parseFile(orgPath, 'the organisation policy file') : null;
  if ((path && !repo) || (orgPath && !org)) return null;
  const resolved = resolveWithOrg(repo, org, {
    repo: path ?? '(none)',
    org: orgPath ?? '(none)',
    source: path ?? orgPath!,
  });
  if (!resolved.ok) for (const p of resolved.problems) console.log(p);
  return resolved.ok ? resolved.policy : null;
}

/** Files from `--files a,b` (one added line each) or from a unified diff (`git diff` output). */
function filesFrom(opts: { files?: string; diff?: string }): ChangedFile[] {
  if (opts.diff) {
    const text = readText(opts.diff, 'the diff');
    const parts = text.split(/^diff --git /m).slice(1);
    if (parts.length === 0)
      throw new UserError('diff_invalid', `${opts.diff} holds no \`diff --git\` sections`);
    return parts.map((part) => {
      const header = /^a\/(\S+) b\/(\S+)/.exec(part);
      if (!header) throw new UserError('diff_invalid', `cannot read a file header in ${opts.diff}`);
      const [, from, to] = header as unknown as [string, string, string];
      const body = part.slice(part.indexOf('\n@@') + 1);
      // git shows no lines of a binary file: unscanned, as when GitHub sends no patch.
      const binary = /\n(?:Binary files .* differ|GIT binary patch)$/m.test(part);
      const added = binary ? null : part.includes('\n@@') ? addedLinesOf(body) : [];
      const removed = part.includes('\n@@')
        ? body.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---')).length
        : 0;
      const status: ChangedFile['status'] = /\nnew file mode/.test(part)
        ? 'added'
        : /\ndeleted file mode/.test(part)
          ? 'removed'
          : from !== to
            ? 'renamed'
            : 'modified';
      return {
        path: to,
        previousPath: from !== to ? from : null,
        status,
        additions: added?.length ?? 0,
        deletions: removed,
        blobSha: null,
        addedLines: added,
      };
    });
  }
  if (opts.files) {
    return opts.files
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((path) => ({
        path,
        previousPath: null,
        status: 'modified' as const,
        additions: 1,
        deletions: 0,
        blobSha: null,
        // Paths only: one empty added line each, so there is content to count and nothing to scan.
        addedLines: [{ line: 1, text: '' }],
      }));
  }
  throw new UserError('usage', 'give the changed files with --files a,b,c or --diff FILE');
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('try a governance policy before committing it');

  policy
    .command('validate <file>')
    .description(
      'check a .github/agent-governance.yml: exit 0 when valid, 1 with file:line:column problems when not',
    )
    .option('--org <file>', "the organisation's .github policy: what it enforces may not be loosened")
    .action((file: string, opts: { org?: string }) => {
      const resolved = loadPolicyFile(file, opts.org);
      if (!resolved) {
        process.exitCode = EXIT.checkFailed;
        return;
      }
      const stages = resolved.pipeline.stages.map((s) => `${s.type}(${s.rules.join(', ')})`).join(' → ');
      console.log(`ok: ${file} is valid`);
      console.log(`pipeline: ${stages}`);
      console.log(
        `gates: ${Object.entries(resolved.gates)
          .map(([n, g]) => `${n} (${g.council ? 'council' : `${g.approvals} approval(s)`})`)
          .join(', ')}`,
      );
    });

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
    .action(
      async (
        opts: { policy?: string; org?: string; agent?: string; tier?: string; files?: string; diff?: string },
        command: Command,
      ) => {
        const resolved = loadPolicyFile(opts.policy, opts.org);
        if (!resolved) {
          process.exitCode = EXIT.usage;
          return;
        }
        const files = filesFrom(opts);
        let agent: AgentRecord;
        const org = loadOrgConfig(readEnv().GOVERNANCE_CONFIG).config;
        if (opts.agent) {
          agent = await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
            const found = rt.checkpoints.stateAtHead().state.agents[opts.agent!];
            if (!found)
              throw new UserError(
                'agent_unknown',
                `no agent "${opts.agent}" is registered; see \`agov agents list\``,
              );
            return found;
          });
        } else {
          const tier = (opts.tier ?? '').toUpperCase();
          if (!isTierId(tier))
            throw new UserError('usage', `give --agent ID or --tier (${TIER_IDS.join(', ')})`);
          agent = {
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
        const decision = evaluate(
          resolved,
          tierCapabilities(org, agent.tier),
          {
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
          },
          { agent, receipts: [], org },
          new Date(),
        );
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
        process.exitCode = decision.outcome === 'allow' ? EXIT.ok : EXIT.checkFailed;
      },
    );

  policy
    .command('backtest <file>')
    .description(
      'replay a candidate policy over the agent PRs recorded in the ledger and show which verdicts would change',
    )
    .option('--last <n>', 'the newest N decisions', (v) => Number.parseInt(v, 10), 100)
    .option('--since <date>', 'only decisions from this date (ISO 8601)')
    .option('--until <date>', 'only decisions up to this date (ISO 8601)')
    .action(
      async (file: string, opts: { last: number; since?: string; until?: string }, command: Command) => {
        const resolved = loadPolicyFile(file);
        if (!resolved) {
          process.exitCode = EXIT.usage;
          return;
        }
        if (!Number.isInteger(opts.last) || opts.last <= 0)
          throw new UserError('usage', '--last must be a positive whole number');
        await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
          const rows = backtestPolicy(rt.ledger, resolved, rt.config, opts);
          const changed = rows.filter((r) => r.was !== r.wouldBe);
          if (rows.length === 0) return console.log('no agent PR decisions recorded in that range');
          if (changed.length) {
            console.log(
              table(
                ['seq', 'pull request', 'agent', 'was', 'would be', 'newly fired', 'no longer fired'],
                changed.map((r) => [
                  String(r.seq),
                  r.pr,
                  `${r.agentId} (${r.tier})`,
                  r.was,
                  r.wouldBe,
                  r.newlyFired.join(', ') || '-',
                  r.noLongerFired.join(', ') || '-',
                ]),
              ),
            );
            console.log('');
          }
          console.log(`${changed.length} of ${rows.length} decisions would change under ${file}`);
          console.log('(the secrets rule keeps its recorded result: file contents are not in the ledger)');
        });
      },
    );
}
