/** The `pull_request` actions whose only work is to evaluate the PR as the payload shows it. */
export const EVALUATED_ACTIONS = ['opened', 'reopened', 'synchronize', 'edited', 'ready_for_review'] as const;

const evaluated = new Set<string>(EVALUATED_ACTIONS);

/**
 * The work group of a delivery (see `Inbox.coalesce`): deliveries that only ask for the same PR at
 * the same head commit to be evaluated are one piece of work while they wait together, whatever
 * their ids (one signed delivery sent again under fresh ids, or several edits in a row). Null for
 * every other delivery: a review records a vote, a merge an outcome, each processed on its own.
 */
export function workGroupOf(event: string, data: unknown): string | null {
  if (event !== 'pull_request') return null;
  const p = data as {
    action?: string;
    repository?: { full_name?: string };
    pull_request?: { number?: number; head?: { sha?: string } };
  };
  const [repository, number, head] = [
    p.repository?.full_name,
    p.pull_request?.number,
    p.pull_request?.head?.sha,
  ];
  if (!p.action || !evaluated.has(p.action) || !repository || number === undefined || !head) return null;
  return `pull_request:${repository.toLowerCase()}#${number}@${head}`;
}
