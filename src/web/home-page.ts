import type { Governance } from '../governance/governance.js';
import { decisionViewsAsync } from '../ledger/queries/decision-views.js';
import { html, type SafeHtml } from './html.js';
import { page, time, type Viewer } from './layout.js';

/** The newest decided PRs of the repositories the person can see, newest first. */
export async function homePage(
  governance: Governance,
  viewer: Viewer,
  canSee: (repository: string) => boolean,
): Promise<SafeHtml> {
  const rows = await decisionViewsAsync.recentDecisions(governance.store.reader);
  const visible = rows.filter((r) => canSee(r.repository)).slice(0, 100);
  return page(
    'Decisions',
    viewer,
    html`<h1>Recent decisions</h1>
${
  visible.length
    ? html`<table><thead><tr><th scope="col">Pull request</th><th scope="col">Agent</th><th scope="col">Outcome</th><th scope="col">When</th></tr></thead><tbody>
${visible.map(
  (r) =>
    html`<tr><td><a href="/decisions/${r.repository}/${r.number}">${r.repository}#${r.number}</a> ${r.title ?? ''}</td><td>${r.agentId ?? '—'}</td><td class="state state-${r.outcome}">${r.outcome}</td><td>${time(r.ts)}</td></tr>`,
)}
</tbody></table>`
    : html`<p>No decision yet on a repository you can see.</p>`
}`,
  );
}
