import type { LedgerReader } from '../ledger/ledger-reader.js';
import { decisionsAsync, type LatestDecision } from '../ledger/queries/decisions.js';
import type { PullRequestTarget } from './pull-request-target.js';

/**
 * Whether an event's snapshot of a PR shows a head the PR has already left (GitHub delivered it
 * late, or it is a captured delivery sent again under a new id): the PR's newest decision is at
 * another head, the event does not continue from that head (a push whose `before` is it), and the
 * snapshot is not the newer one — GitHub's `updated_at` older than the decision's, or, when the
 * two cannot be told apart, the PR was decided at the event's head before it moved on. Such an
 * event decides nothing: it would move the PR's newest decision and check back to an old commit.
 */
export async function isStale(
  latest: LatestDecision | null,
  pr: PullRequestTarget['pr'],
  decidedAtHead: () => Promise<boolean>,
): Promise<boolean> {
  if (!latest || latest.headSha === pr.headSha) return false;
  if (pr.movedFrom === latest.headSha) return false;
  const order = compareTimes(pr.updatedAt, latest.updatedAt);
  if (order !== 0) return order < 0;
  return decidedAtHead();
}

/** -1, 0 or 1 as `a` is before, the same as or after `b`; 0 when either is missing or unreadable. */
function compareTimes(a: string | undefined, b: string | null): number {
  const [x, y] = [Date.parse(a ?? ''), Date.parse(b ?? '')];
  if (Number.isNaN(x) || Number.isNaN(y) || x === y) return 0;
  return x < y ? -1 : 1;
}

/** PRs remembered at most (a cache: a PR forgotten is only fetched once more). */
const MAX_REMEMBERED = 10_000;

/**
 * The snapshot (head commit and GitHub's `updated_at`) of each PR's last evaluation this process
 * finished, whether or not it wrote a decision (one equal to the recorded one writes nothing).
 */
export class EvaluatedSnapshots {
  private readonly last = new Map<string, string>();

  /**
   * What an event's snapshot of the PR asks for, asking GitHub nothing: `stale` (a head the PR has
   * left: decide nothing), `seen` (evaluated already: decide again only if an input changed), or
   * null. Only for events that carry the PR as it was then (`pull_request*`), not ones that read it.
   */
  async judge(
    reader: LedgerReader,
    target: PullRequestTarget,
    trigger: string,
  ): Promise<'stale' | 'seen' | null> {
    if (!trigger.startsWith('pull_request')) return null;
    const { number, headSha } = target.pr;
    const repository = `${target.owner}/${target.repo}`;
    const latest = await decisionsAsync.latestDecision(reader, repository, number);
    const atHead = () => decisionsAsync.decidedAtHead(reader, repository, headSha, number);
    if (await isStale(latest, target.pr, atHead)) return 'stale';
    return this.seen(repository, target.pr, latest) ? 'seen' : null;
  }

  remember(repository: string, pr: PullRequestTarget['pr']): void {
    if (!pr.updatedAt) return;
    if (this.last.size >= MAX_REMEMBERED) this.last.clear();
    this.last.set(`${repository}#${pr.number}`, `${pr.headSha}@${pr.updatedAt}`);
  }

  /**
   * Whether this snapshot of the PR was evaluated already: the newest decision records it, or
   * this process finished an evaluation of it. Only with GitHub's `updated_at` known.
   */
  private seen(repository: string, pr: PullRequestTarget['pr'], latest: LatestDecision | null): boolean {
    if (!pr.updatedAt || latest?.headSha !== pr.headSha) return false;
    if (latest.updatedAt === pr.updatedAt) return true;
    return this.last.get(`${repository}#${pr.number}`) === `${pr.headSha}@${pr.updatedAt}`;
  }
}

/** GitHub's `updated_at` of the PR as the event showed it, recorded with the decision. */
export const updatedAtOf = ({ pr }: PullRequestTarget) =>
  pr.updatedAt === undefined ? {} : { pullRequestUpdatedAt: pr.updatedAt };
