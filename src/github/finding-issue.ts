import type { Probot } from 'probot';
import type { OutboxMessageInput } from '../ledger/outbox.js';

/** A bug-watcher finding as a GitHub issue in the configured repository: opened, or closed when it clears. */
export interface FindingIssuePayload {
  action: 'open' | 'close';
  repository: string;
  labels: string[];
  key: string;
  rule?: string;
  summary?: string;
  evidence?: string[];
}

export const FINDING_ISSUE_KIND = 'finding_issue';

/** Written into the issue's body: how a later call finds the issue of a finding again. */
const marker = (key: string) => `<!-- agent-governance finding: ${key} -->`;

export function findingIssueMessage(payload: FindingIssuePayload, now: Date): OutboxMessageInput {
  return {
    target: 'github',
    kind: FINDING_ISSUE_KIND,
    idempotencyKey: `github:finding:${payload.action}:${payload.key}:${now.toISOString()}`,
    // Open and close of one finding go out in that order.
    orderingKey: `finding:${payload.repository}:${payload.key}`,
    payload,
  };
}

/**
 * Opens or closes the finding's issue through the app's installation on that repository. Each call
 * first looks for the issue by its marker, so a retry after a lost reply never opens a second one.
 */
export async function deliverFindingIssue(probot: Probot, p: FindingIssuePayload): Promise<void> {
  const [owner, repo] = p.repository.split('/') as [string, string];
  const app = await probot.auth();
  const { data: installation } = await app.rest.apps.getRepoInstallation({ owner, repo });
  const octokit = await probot.auth(installation.id);
  const { data: open } = await octokit.rest.issues.listForRepo({
    owner,
    repo,
    state: 'open',
    labels: p.labels[0],
    per_page: 100,
  });
  const existing = open.find((issue) => issue.body?.includes(marker(p.key)));
  if (p.action === 'open') {
    if (existing) return;
    await octokit.rest.issues.create({
      owner,
      repo,
      title: `Agent Governance finding: ${p.summary ?? p.key}`,
      labels: p.labels,
      body: [
        `The bug watcher's rule \`${p.rule ?? 'unknown'}\` found a pattern no single event shows.`,
        '',
        `**${p.summary ?? p.key}**`,
        '',
        'Evidence:',
        ...(p.evidence ?? []).map((e) => `- ${e}`),
        '',
        'This issue is closed when the pattern clears; the ledger holds the finding (`agov ledger tail`).',
        '',
        marker(p.key),
      ].join('\n'),
    });
    return;
  }
  if (!existing) return;
  await octokit.rest.issues.createComment({
    owner,
    repo,
    issue_number: existing.number,
    body: 'The pattern cleared: the bug watcher resolved this finding.',
  });
  await octokit.rest.issues.update({
    owner,
    repo,
    issue_number: existing.number,
    state: 'closed',
    state_reason: 'completed',
  });
}
