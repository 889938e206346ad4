/**
 * Renders a Decision as a GitHub check run: status, conclusion, a Markdown summary table and
 * annotations. Protected branches accept `success`, `neutral` and `skipped`, so waiting for people
 * is `action_required` and never `neutral`.
 */
import { tierLabel } from '../tiers.js';
import type { Annotation, Decision } from './decision.js';

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
  const gates = decision.gates.map(
    (g) =>
      `- gate \`${g.gate}\`: ${g.approvedBy.length} of ${g.approvals} approval(s)${g.council ? ' from the council' : ''}` +
      `${g.approvedBy.length ? ` (${g.approvedBy.join(', ')})` : ''}${g.rejectedBy.length ? `; rejected by ${g.rejectedBy.join(', ')}` : ''}` +
      `${g.eligible.length ? `; approvers: ${g.eligible.join(', ')}` : ''}${g.allowOwner ? '' : "; the agent's owner may not approve"}`,
  );
  const summary = [
    `**${decision.summary}**`,
    '',
    `| agent | tier | changed | policy |`,
    `|---|---|---|---|`,
    `| \`${decision.agentId}\` | ${tierLabel(decision.tier)} | ${decision.changedFiles} files, ${decision.changedLines} lines | ${escapeCell(decision.policySource)} |`,
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
  };
}

/** A PR from no known agent: a quick, neutral check that says why it was not judged. */
export function renderUnknownAuthor(author: string): CheckRunRender {
  return {
    status: 'completed',
    conclusion: 'neutral',
    output: {
      title: 'Not an agent pull request',
      summary: `The author \`${author}\` and the commit trailers match no registered agent, so no policy applies.`,
      annotations: [],
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

/** Accepted and stored; evaluation has not started (it waits its turn, or for GitHub to answer). */
export function renderQueued(agentId: string): CheckRunRender {
  return {
    status: 'queued',
    output: {
      title: 'Queued',
      summary: `Pull request by agent \`${agentId}\` received; it will be evaluated shortly.`,
      annotations: [],
    },
  };
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

/** An approval request ran out of time: expiry never approves, so the check fails. */
export function renderApprovalExpired(agentId: string): CheckRunRender {
  return {
    status: 'completed',
    conclusion: 'failure',
    output: {
      title: 'Approval expired',
      summary: `Nobody decided on this pull request by \`${agentId}\` before the deadline, and the policy rejects on expiry. Push again or re-run the check to ask again.`,
      annotations: [],
    },
  };
}
