import type { Governance } from '../governance/governance.js';
import { decisionViewsAsync, type MergeGroupCheck } from '../ledger/queries/decision-views.js';
import { html, type SafeHtml } from './html.js';
import { page, shortSha, time, type Viewer } from './layout.js';

/** The newest merge-queue verdict at a commit of a repository, if any (a queue check's link names it). */
export function mergeGroupAt(
  governance: Governance,
  repository: string,
  headSha: string,
): Promise<MergeGroupCheck | null> {
  return decisionViewsAsync.mergeGroupAt(governance.store.reader, repository, headSha);
}

/** A merge-queue entry: each PR in the group, whether it passed and why, with a link to its decision. */
export function mergeGroupPage(check: MergeGroupCheck, viewer: Viewer): SafeHtml {
  return page(
    `Merge group ${shortSha(check.headSha)}`,
    viewer,
    html`<h1>Merge group at <code>${shortSha(check.headSha)}</code> in ${check.repository}</h1>
      <p><strong>${check.conclusion === 'success' ? 'Passed' : 'Failed'}</strong>: ${check.summary}</p>
      <p>Queue branch <code>${check.headRef}</code>; recorded ${time(check.ts)} as ledger entry ${check.seq}.</p>
      <table>
        <thead><tr><th scope="col">PR</th><th scope="col">agent</th><th scope="col">verdict</th><th scope="col">why</th></tr></thead>
        <tbody>
          ${check.pullRequests.map(
            (pr) =>
              html`<tr>
                <td><a href="/decisions/${check.repository}/${pr.number}">#${pr.number}</a> at <code>${shortSha(pr.headSha)}</code></td>
                <td>${pr.agentId ?? 'no agent'}</td>
                <td>${pr.passed ? 'passed' : 'failed'}</td>
                <td>${pr.reason}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

/** A PR the person may see that has no decision yet: its check is queued or was never evaluated. */
export function undecidedPage(repository: string, number: number, viewer: Viewer): SafeHtml {
  return page(
    `${repository}#${number}`,
    viewer,
    html`<h1>${repository}#${number}</h1>
      <p>No decision is recorded for this pull request yet: its check is queued, or the pull request is
      not one the service has evaluated. This page shows the decision once it is recorded.</p>`,
  );
}
