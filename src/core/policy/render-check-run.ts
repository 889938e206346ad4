/**
 * Renders a Decision as a GitHub check run: status, conclusion, a Markdown summary table and
 * annotations. Protected branches accept `success`, `neutral` and `skipped`, so waiting for people
 * is `action_required` and never `neutral`.
 */
import { buttonsFor, type CheckRunAction } from '../check-run-buttons.js';
import { tierLabel } from '../tiers.js';
import type { Annotation, Decision, RuleResult } from './decision.js';

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations: Annotation[];
}

export interface CheckRunRender {
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'action_required' | 'neutral';
  output: CheckRunOutput;
  /** The buttons on the check: only while it waits; a render without them clears earlier ones. */
  actions?: CheckRunAction[];
}

/** GitHub's limit for summary and text. */
export const MAX_OUTPUT_CHARS = 65_535;

const OUTCOME_ICON = {
  pass: '✅ pass',
  fire: '❌ fired',
  pending: '⏳ waiting',
  skip: '➖ skipped',
} as const;

export function renderCheckRun(decision: Decision): CheckRunRender {
  const conclusion =
    decision.outcome === 'allow'
      ? 'success'
      : decision.outcome === 'deny'
        ? 'failure'
        : decision.outcome === 'require_approval'
          ? 'action_required'
          : undefined;
  const rows = decision.rules.map((r) => {
    const outcome =
      r.status === 'fire' && r.action === 'require_approval' ? '✋ needs approval' : OUTCOME_ICON[r.status];
    return `| ${r.stage} | \`${r.rule}\` | ${outcome} | ${escapeCell(r.summary)} |`;
  });
  const gates = decision.gates.flatMap((g) => [
    `- ${g.tally.description} (${g.tally.approvedBy.length} of ${g.tally.required}${g.council ? ' from the council' : ''}${g.allowOwner ? '' : "; the agent's owner may not approve"}${g.tally.expiresAt ? `; deadline ${g.tally.expiresAt}` : ''})`,
    ...g.tally.missingOwners.map((m) =>
      m.owners.length
        ? `  - still needs a code owner of ${codeList(m.paths)}: one of ${m.owners.join(', ')}`
        : `  - nobody may approve ${codeList(m.paths)}: ${m.why ?? 'every owner is barred or has voted'}`,
    ),
    ...g.tally.notCounted.map((n) => `  - not counted: ${n.approver}: ${n.reason}`),
    ...(g.unmapped.length
      ? [`  - named but unknown to the organisation config (never counted): ${g.unmapped.join(', ')}`]
      : []),
  ]);
  const a = decision.attribution;
  const attribution =
    a.strength === 'authenticated'
      ? `authenticated (${escapeCell(a.via)})`
      : `claimed (${escapeCell(a.via)}); opened by \`${escapeCell(a.author)}\`, a person: the agent's rules apply, nothing is charged to the agent`;
  const summary = [
    `**${decision.summary}**`,
    '',
    `| agent | attribution | tier | changed | policy |`,
    `|---|---|---|---|---|`,
    `| \`${decision.agentId}\` | ${attribution} | ${tierLabel(decision.tier)} | ${decision.changedFiles} files, ${decision.changedLines} lines | ${escapeCell(decision.policySource)} |`,
    '',
    `| stage | rule | outcome | what it saw |`,
    `|---|---|---|---|`,
    ...rows,
    ...(gates.length
      ? ['', '**Approvals** (bound to this head commit, diff and policy version):', ...gates]
      : []),
  ].join('\n');
  return {
    status: conclusion ? 'completed' : 'in_progress',
    ...(conclusion ? { conclusion } : {}),
    output: {
      title: truncate(decision.summary, 200),
      summary: truncate(summary, MAX_OUTPUT_CHARS),
      annotations: decision.rules.flatMap((r) => r.annotations),
    },
    actions: buttonsFor(decision.outcome),
  };
}

/**
 * A PR from no known agent: a quick, neutral check that says plainly no agent rules applied (and
 * what the secret scan found, when it ran).
 */
export function renderUnknownAuthor(author: string, scan: RuleResult | null = null): CheckRunRender {
  const scanned = scan ? `\n\nThe secret scan ran on it: ${scan.summary}.` : '';
  return {
    status: 'completed',
    conclusion: 'neutral',
    output: {
      title: 'Not an agent pull request: no agent rules applied',
      summary: `The author \`${author}\` and the commit trailers match no registered agent, so no agent rules applied to this pull request (tiers, paths, gates).${scanned}`,
      annotations: [],
    },
  };
}

/** A secret in a PR by a person: the check fails; no agent is charged. */
export function renderHumanSecret(author: string, scan: RuleResult): CheckRunRender {
  return {
    status: 'completed',
    conclusion: 'failure',
    output: {
      title: 'Secret in added lines',
      summary: truncate(
        `The secret scan, which runs on every pull request, found ${scan.summary}. The author \`${author}\` is no registered agent, so no agent rules applied and no agent is charged; remove the secret and rotate the credential.`,
        MAX_OUTPUT_CHARS,
      ),
      annotations: scan.annotations,
    },
  };
}

/** The policy file could not be used: the check fails and says where and why. */
export function renderConfigError(problems: string[]): CheckRunRender {
  return {
    status: 'completed',
    conclusion: 'failure',
    output: {
      title: 'The governance policy file is invalid',
      summary: truncate(
        [
          'The policy on the default branch could not be used, so nothing can pass until it is fixed:',
          '',
          ...problems.map((p) => `- \`${p}\``),
        ].join('\n'),
        MAX_OUTPUT_CHARS,
      ),
      annotations: [],
    },
  };
}

export function renderInProgress(title: string, summary: string): CheckRunRender {
  return { status: 'in_progress', output: { title, summary, annotations: [] } };
}

/** Paths as the check lists them: every one up to 50, then a count (the summary has room). */
function codeList(paths: readonly string[]): string {
  const shown = paths.slice(0, 50).map((p) => `\`${escapeCell(p)}\``);
  return paths.length > 50 ? `${shown.join(', ')} and ${paths.length - 50} more` : shown.join(', ');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}\n\n…(truncated)`;
}

/** The check of an open PR when its agent is revoked: it fails, and says why. */
export function renderCheckRunRevoked(agentId: string, reason: string): CheckRunRender {
  return {
    status: 'completed',
    conclusion: 'failure',
    output: {
      title: `Agent ${agentId} was revoked`,
      summary: `The agent that opened this pull request was revoked (${reason}). Its pull requests cannot pass.`,
      annotations: [],
    },
  };
}
