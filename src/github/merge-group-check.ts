import type { ProbotOctokit } from 'probot';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { type MergeGroupMember, mergeGroupVerdict, renderMergeGroup } from '../core/merge-group.js';
import type { Governance } from '../governance/governance.js';
import { agentStatus } from '../ledger/queries/agents.js';
import { latestDecision } from '../ledger/queries/decisions.js';
import { isTransient } from '../platform/resilience.js';
import { checkRunMessage } from './check-run-message.js';

/** A `merge_group.checks_requested` delivery, as the edge schema parsed it. */
export interface MergeGroupEvent {
  installationId: number;
  owner: string;
  repo: string;
  headSha: string;
  baseSha: string;
  headRef: string;
  baseRef: string;
}

/** More commits than this in one queue entry are not attributed one by one: the group fails instead. */
const MAX_COMMITS = 1000;

/** An open PR as GitHub lists it: the fields this check reads. */
interface ListedPull {
  number: number;
  state: string;
  user: { login: string } | null;
  head: { sha: string };
  base: { ref: string };
}

/**
 * The merge-queue check. A queue entry's branch names only its last PR, but the entry holds every
 * commit between `base_sha` and `head_sha`: the PRs are those the commits belong to (GitHub's
 * "pull requests associated with a commit"), plus the one the branch names. Each PR must pass as
 * its own check would now; the verdict is recorded with its check run in one transaction.
 */
export class MergeGroupCheck {
  constructor(
    private readonly governance: Governance,
    private readonly onOutbox: () => void,
  ) {}

  async check(octokit: ProbotOctokit, e: MergeGroupEvent, causeSeq: number): Promise<void> {
    const g = this.governance;
    const repository = `${e.owner}/${e.repo}`;
    let pulls: ListedPull[] = [];
    let problem: string | null = null;
    try {
      ({ pulls, problem } = await this.pullRequestsIn(octokit, e));
    } catch (error) {
      // GitHub unavailable: the delivery is retried and the group waits. Any other answer is final.
      if (isTransient(error)) throw error;
      problem = `GitHub refused a read this check needs to find the group's PRs (${describe(error)}).`;
    }
    if (problem === null && pulls.length === 0)
      problem = `No open pull request into \`${branchOf(e.baseRef)}\` owns a commit of this merge group.`;
    // Revoke signals live in the state store: a revocation holds there even before the ledger has it.
    const signals = new Map<string, boolean>();
    for (const pr of pulls) {
      const agentId = this.agentOf(repository, pr);
      if (agentId && !signals.has(agentId))
        signals.set(agentId, (await g.state.getRevokeSignal(agentId)) !== null);
    }
    const target = { installationId: e.installationId, owner: e.owner, repo: e.repo };
    g.ledger.atomically(() => {
      // Decisions and statuses are read inside the write, so a revocation cannot slip in between.
      const members = pulls.map((pr): MergeGroupMember => {
        const agentId = this.agentOf(repository, pr);
        return {
          number: pr.number,
          headSha: pr.head.sha,
          decision: latestDecision(g.ledger, repository, pr.number),
          agent: agentId
            ? { id: agentId, status: signals.get(agentId) ? 'revoked' : agentStatus(g.ledger, agentId) }
            : null,
        };
      });
      const verdict = mergeGroupVerdict(members, problem);
      const entry: LedgerEntryInput = {
        type: 'merge_group.checked',
        agentId: null,
        actor: 'github',
        payload: {
          repository,
          headSha: e.headSha,
          baseSha: e.baseSha,
          headRef: e.headRef,
          conclusion: verdict.conclusion,
          summary: verdict.title,
          pullRequests: verdict.pullRequests,
        },
      };
      g.ledger.appendAll([entry], {
        outbox: [checkRunMessage(target, e.headSha, renderMergeGroup(verdict), `merge-group-${causeSeq}`)],
      });
    });
    await g.syncState();
    this.onOutbox();
  }

  /** The agent a PR belongs to: by its newest decision, else by its author's login. */
  private agentOf(repository: string, pr: ListedPull): string | null {
    return (
      latestDecision(this.governance.ledger, repository, pr.number)?.agentId ??
      (pr.user ? this.governance.agentIdForLogin(pr.user.login) : null)
    );
  }

  /** The open PRs into the group's base branch that own a commit of the group, and the one its branch names. */
  private async pullRequestsIn(
    octokit: ProbotOctokit,
    e: MergeGroupEvent,
  ): Promise<{ pulls: ListedPull[]; problem: string | null }> {
    const { owner, repo } = e;
    const base = branchOf(e.baseRef);
    const commits: string[] = [];
    for (let page = 1; ; page++) {
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
        owner,
        repo,
        basehead: `${e.baseSha}...${e.headSha}`,
        per_page: 100,
        page,
      });
      if (data.total_commits > MAX_COMMITS)
        return {
          pulls: [],
          problem: `This merge group holds ${data.total_commits} commits, more than the ${MAX_COMMITS} this check attributes to PRs.`,
        };
      commits.push(...data.commits.map((c) => c.sha));
      if (data.commits.length === 0 || commits.length >= data.total_commits) break;
    }
    const found = new Map<number, ListedPull>();
    const covered = new Set<string>();
    // Newest first: the queue's own merge commit, then the PRs' commits. A PR found through one of
    // its commits covers the rest of its commits, so a long PR costs two calls, not one per commit.
    for (const sha of commits.reverse()) {
      if (covered.has(sha)) continue;
      const { data } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        owner,
        repo,
        commit_sha: sha,
        per_page: 100,
      });
      for (const pr of data) {
        if (pr.state !== 'open' || pr.base.ref !== base || found.has(pr.number)) continue;
        found.set(pr.number, pr);
        const own = await octokit.paginate(octokit.rest.pulls.listCommits, {
          owner,
          repo,
          pull_number: pr.number,
          per_page: 100,
        });
        for (const c of own) covered.add(c.sha);
      }
    }
    const named = Number(/\/pr-(\d+)-[0-9a-f]+$/.exec(e.headRef)?.[1]);
    if (Number.isInteger(named) && named > 0 && !found.has(named)) {
      const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: named });
      if (data.state === 'open' && data.base.ref === base) found.set(named, data);
    }
    return { pulls: [...found.values()], problem: null };
  }
}

function branchOf(ref: string): string {
  return ref.replace(/^refs\/heads\//, '');
}

function describe(error: unknown): string {
  const e = error as { status?: number; message?: string };
  return e?.status ? `HTTP ${e.status}: ${e.message ?? ''}` : String(e?.message ?? error);
}
