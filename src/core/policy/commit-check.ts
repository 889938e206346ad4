/**
 * A check run belongs to a commit; a decision belongs to a PR. When several PRs have one head
 * commit, branch protection reads one `Agent Governance` check for all of them, so the check shows
 * the strictest decision of the PRs at the commit: a second PR of the same commit (into a scratch
 * branch, from a fork, by a person) can never turn a waiting or failing check green or neutral.
 */
import type { CheckRunRender } from './render-check-run.js';

/** The newest decision of a PR whose head is the commit. */
export interface PullRequestVerdict {
  number: number;
  outcome: string;
  summary: string;
}

/** How strict an outcome is; an outcome this build does not know counts as the strictest. */
const STRICTNESS: Record<string, number> = {
  not_agent: 0,
  allow: 1,
  pending: 2,
  require_approval: 3,
  config_error: 4,
  deny: 4,
};

export function strictness(outcome: string): number {
  return STRICTNESS[outcome] ?? 4;
}

/** The other PR at the commit whose decision is stricter than `own`, the strictest first; or null. */
export function stricterAtCommit(
  own: PullRequestVerdict,
  others: readonly PullRequestVerdict[],
): PullRequestVerdict | null {
  let strictest: PullRequestVerdict | null = null;
  for (const other of others) {
    if (other.number === own.number || strictness(other.outcome) <= strictness(own.outcome)) continue;
    if (!strictest || strictness(other.outcome) > strictness(strictest.outcome)) strictest = other;
  }
  return strictest;
}

/** The check's state for a PR's outcome (null: still deciding, `in_progress`); unknown ones fail. */
/** The PR with the strictest decision among `verdicts` (the lowest number of equals), or null. */
export function strictestAtCommit(verdicts: readonly PullRequestVerdict[]): PullRequestVerdict | null {
  let strictest: PullRequestVerdict | null = null;
  for (const v of verdicts)
    if (!strictest || strictness(v.outcome) > strictness(strictest.outcome)) strictest = v;
  return strictest;
}

const CONCLUSION: Record<string, CheckRunRender['conclusion'] | null> = {
  not_agent: 'neutral',
  allow: 'success',
  pending: null,
  require_approval: 'action_required',
  config_error: 'failure',
  deny: 'failure',
};

/** The check of the commit while `stricter` holds it back: its state, and every PR's decision. */
export function renderStricterAtCommit(
  own: PullRequestVerdict,
  stricter: PullRequestVerdict,
  others: readonly PullRequestVerdict[],
): CheckRunRender {
  const conclusion = Object.hasOwn(CONCLUSION, stricter.outcome)
    ? (CONCLUSION[stricter.outcome] ?? null)
    : 'failure';
  const rows = [own, ...others.filter((o) => o.number !== own.number)]
    .sort((a, b) => a.number - b.number)
    .map(
      (p) => `| #${p.number} | ${p.outcome} | ${p.summary.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`,
    );
  return {
    ...(conclusion ? { status: 'completed', conclusion } : { status: 'in_progress' }),
    output: {
      title: `PR #${stricter.number} at this commit: ${stricter.summary}`.slice(0, 250),
      summary: [
        `This commit is the head of more than one pull request, and a check belongs to the commit: it shows the strictest decision of them. PR #${own.number} alone would be \`${own.outcome}\`.`,
        '',
        '| PR | decision | why |',
        '|---|---|---|',
        ...rows,
      ].join('\n'),
      annotations: [],
    },
  };
}
