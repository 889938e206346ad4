import type { DecisionView, GateView } from './decision-view.js';
import { html, type SafeHtml, safeHref } from './html.js';
import { page, shortSha, time, type Viewer } from './layout.js';

const OUTCOME_WORDS: Record<string, string> = {
  allow: 'allowed',
  require_approval: 'waiting for approval',
  deny: 'denied',
  pending: 'pending',
  not_agent: 'not an agent PR',
  config_error: 'policy file error',
};

/** The page behind the check run's details link: why the PR stands where it stands. */
export function decisionPage(view: DecisionView, viewer: Viewer): SafeHtml {
  const d = view.latest.payload;
  const [owner, repo] = view.repository.split('/');
  const title = d.title ?? `${view.repository}#${view.number}`;
  const body = html`
<p class="muted"><a href="${safeHref(d.url ?? null)}">${owner}/${repo}#${view.number}</a></p>
<h1>${title}</h1>
<p class="state state-${d.outcome}">${OUTCOME_WORDS[d.outcome] ?? d.outcome}: ${d.summary}</p>
<dl class="facts">
<dt>Agent</dt><dd>${view.agent ? (viewer.admin ? html`<a href="/fleet/agents/${view.agent.id}">${view.agent.id}</a>` : view.agent.id) : 'none'}${view.agent?.status && view.agent.status !== 'active' ? html` <span class="bad">(${view.agent.status})</span>` : null}</dd>
<dt>Tier</dt><dd>${d.tier ?? '—'}</dd>
<dt>Attribution</dt><dd>${d.attribution ? html`<strong>${d.attribution.strength}</strong> (${d.attribution.via})` : '—'}</dd>
<dt>Author</dt><dd>${d.author ?? '—'}</dd>
<dt>Head</dt><dd><code>${d.headSha}</code></dd>
<dt>Policy version</dt><dd><code>${d.policyVersion ?? '—'}</code></dd>
<dt>Decided</dt><dd>${time(view.latest.ts)} (ledger entry <a href="#entry-${view.latest.seq}">${view.latest.seq}</a>)</dd>
</dl>

<h2 id="rules">Rules</h2>
${
  d.rules.length
    ? html`<table><thead><tr><th scope="col">Rule</th><th scope="col">Outcome</th><th scope="col">Reason</th></tr></thead><tbody>
${d.rules.map((r) => html`<tr><td><code>${r.rule}</code></td><td class="state state-${r.status === 'fire' ? 'deny' : 'pending'}">${r.status}</td><td>${r.summary}</td></tr>`)}
</tbody></table>`
    : html`<p>Every rule passed.</p>`
}
<p class="muted">The ledger keeps the rules that fired or wait; the rules that passed are not listed.</p>
${filesTable(d.files)}

<h2 id="gates">Gates</h2>
${view.gates.length ? view.gates.map(gateSection) : html`<p>No gate waits for people on this PR.</p>`}

<h2 id="history">Decisions on this PR</h2>
<table><thead><tr><th scope="col">Entry</th><th scope="col">When</th><th scope="col">Head</th><th scope="col">Outcome</th><th scope="col">Trigger</th><th scope="col">Summary</th></tr></thead><tbody>
${[...view.history]
  .reverse()
  .map(
    (h) =>
      html`<tr><td><a href="#entry-${h.seq}">${h.seq}</a></td><td>${time(h.ts)}</td><td><code>${shortSha(h.payload.headSha)}</code></td><td class="state state-${h.payload.outcome}">${OUTCOME_WORDS[h.payload.outcome] ?? h.payload.outcome}</td><td>${h.payload.trigger}</td><td>${h.payload.summary}</td></tr>`,
  )}
</tbody></table>

<h2 id="ledger">Ledger entries</h2>
<p class="${view.chain.ok ? 'ok' : 'bad'}"><strong>${
    view.chain.ok
      ? `The chain verifies from entry 1 up to entry ${view.chain.upTo} (verified whole at most a minute ago, and every entry since).`
      : `The chain does NOT verify: ${view.chain.reason} (first bad entry ${view.chain.firstBadSeq}).`
  }</strong></p>
<table><thead><tr><th scope="col">Seq</th><th scope="col">Type</th><th scope="col">When</th><th scope="col">Hash</th><th scope="col">Previous hash</th></tr></thead><tbody>
${[...view.history, ...view.receipts]
  .sort((a, b) => a.seq - b.seq)
  .map(
    (e) =>
      html`<tr id="entry-${e.seq}"><td>${e.seq}</td><td><code>${e.type}</code></td><td>${time(e.ts)}</td><td class="hash">${e.hash}</td><td class="hash">${e.prevHash}</td></tr>`,
  )}
</tbody></table>
`;
  return page(`${view.repository}#${view.number}`, viewer, body);
}

function gateSection(g: GateView): SafeHtml {
  const t = g.tally;
  return html`<section class="gate" aria-labelledby="gate-${g.rule.gate}">
<h3 id="gate-${g.rule.gate}">Gate <code>${g.rule.gate}</code>: <span class="state state-${t.state}">${t.state}</span></h3>
<p>${t.description}</p>
<dl class="facts">
<dt>Needs</dt><dd>${t.required} approval(s)${g.rule.council ? ' from the council' : ''}${g.rule.distinctTeams ? ', one per team' : ''}</dd>
<dt>Approved by</dt><dd>${
    g.counted.length
      ? html`<ul>${g.counted.map((r) => html`<li><strong>${r.approver}</strong> via ${r.source} at ${time(r.at)}, under head <code>${shortSha(r.headSha)}</code> and policy <code>${r.policyVersion}</code></li>`)}</ul>`
      : 'nobody yet'
  }</dd>
${t.rejectedBy.length ? html`<dt>Rejected by</dt><dd>${t.rejectedBy.join(', ')}</dd>` : null}
<dt>Still needed</dt><dd>${t.missing > 0 ? html`${t.missing} more, from: ${t.mayApprove.length ? t.mayApprove.join(', ') : 'nobody left who may approve'}` : 'nothing'}</dd>
<dt>Deadline</dt><dd>${t.expiresAt ? html`${time(t.expiresAt)} (then ${g.rule.onExpiry === 'reject' ? 'it is rejected' : 'the admins are told'})` : '—'}${t.escalated ? ' — past the deadline, escalated' : null}</dd>
${
  t.notCounted.length
    ? html`<dt>Not counted</dt><dd><ul>${t.notCounted.map((n) => html`<li>${n.approver}: ${n.reason}</li>`)}</ul></dd>`
    : null
}
</dl>
</section>`;
}

function filesTable(files: DecisionView['latest']['payload']['files']): SafeHtml | null {
  if (!files?.length) return null;
  return html`<details><summary>${files.length} changed file(s)</summary><table><thead><tr><th scope="col">File</th><th scope="col">Status</th><th scope="col">+</th><th scope="col">−</th></tr></thead><tbody>
${files.map((f) => html`<tr><td><code>${f.path}</code></td><td>${f.status}</td><td>${f.additions}</td><td>${f.deletions}</td></tr>`)}
</tbody></table></details>`;
}
