import type { LedgerEntry } from '../core/ledger-entries.js';
import { TIER_IDS } from '../core/tiers.js';
import type { AgentRow, FleetFilter, FleetView } from './fleet-view.js';
import { html, type SafeHtml } from './html.js';
import { page, time, type Viewer } from './layout.js';
import { budgetChart, type ChartInput } from './svg-chart.js';

const STATUSES = ['active', 'suspended', 'revoked'];

export function fleetPage(view: FleetView, filter: FleetFilter, viewer: Viewer): SafeHtml {
  const option = (value: string, selected: string | null | undefined) =>
    html`<option value="${value}"${value === (selected ?? '') ? html` selected` : null}>${value || 'any'}</option>`;
  return page(
    'Fleet',
    viewer,
    html`<h1>Fleet</h1>
<h2 id="agents">Agents</h2>
<form class="filters" method="get" action="/fleet" role="search">
<label>Agent <input type="search" name="q" value="${filter.q ?? ''}"></label>
<label>Status <select name="status">${['', ...STATUSES].map((s) => option(s, filter.status))}</select></label>
<label>Tier <select name="tier">${['', ...TIER_IDS].map((t) => option(t, filter.tier))}</select></label>
<button type="submit">Filter</button>
</form>
${view.agents.length ? agentTable(view.agents) : html`<p>No agent matches.</p>`}

<h2 id="pending">Waiting for approval (oldest first)</h2>
${
  view.pending.length
    ? html`<table><thead><tr><th scope="col">Pull request</th><th scope="col">Agent</th><th scope="col">Waiting since</th><th scope="col">Waits for</th></tr></thead><tbody>
${view.pending.map(
  (
    p,
  ) => html`<tr><td><a href="/decisions/${p.repository}/${p.number}">${p.repository}#${p.number}</a> ${p.title ?? ''}</td>
<td>${p.agentId ? html`<a href="/fleet/agents/${p.agentId}">${p.agentId}</a>` : '—'}</td><td>${time(p.since)}</td>
<td>${p.gates.length ? html`<ul>${p.gates.map((g) => html`<li><code>${g.rule.gate}</code> <span class="state state-${g.tally.state}">${g.tally.state}</span>${g.tally.missing > 0 ? html`: ${g.tally.missing} more from ${g.tally.mayApprove.join(', ') || 'nobody left'}` : null}</li>`)}</ul>` : '—'}</td></tr>`,
)}
</tbody></table>`
    : html`<p>Nothing waits for people.</p>`
}

<h2 id="promotions">Promotions, demotions and reinstatements</h2>
${
  view.promotions.length
    ? html`<table><thead><tr><th scope="col">When</th><th scope="col">Agent</th><th scope="col">Kind</th><th scope="col">Step</th><th scope="col">Tiers</th><th scope="col">By</th><th scope="col">Reason</th></tr></thead><tbody>
${view.promotions.map((p) => html`<tr><td>${time(p.ts)}</td><td><a href="/fleet/agents/${p.agentId}">${p.agentId}</a></td><td>${p.kind}</td><td>${p.step}</td><td>${p.from ?? '—'} → ${p.to ?? '—'}</td><td>${p.actor}</td><td>${p.reason}</td></tr>`)}
</tbody></table>`
    : html`<p>None yet.</p>`
}

<h2 id="ledger">Ledger</h2>
<dl class="facts">
<dt>Head</dt><dd>entry ${view.head.seq}, <span class="hash">${view.head.hash}</span></dd>
<dt>Last checkpoint</dt><dd>${view.checkpoint ? html`<code>${view.checkpoint.id}</code> at entry ${view.checkpoint.headSeq}, ${time(view.checkpoint.createdAt)}` : 'none yet'}</dd>
<dt>Last verify</dt><dd${view.lastVerify ? html` class="${view.lastVerify.ok ? 'ok' : 'bad'}"` : null}>${
      view.lastVerify
        ? html`at ${view.lastVerify.when}, ${time(view.lastVerify.at)}: the whole ledger ${view.lastVerify.ok ? 'verifies' : 'does NOT verify'} (the chain, its checkpoints and its projections), ${view.lastVerify.entries} entries in ${view.lastVerify.ms} ms`
        : 'not recorded by this service'
    }</dd>
<dt>Chain now</dt><dd class="${view.chain.ok ? 'ok' : 'bad'}">${view.chain.ok ? `the chain verifies up to entry ${view.chain.upTo} (checked now)` : `the chain does NOT verify: ${view.chain.reason}`}</dd>
</dl>`,
  );
}

function agentTable(agents: AgentRow[]): SafeHtml {
  return html`<table><thead><tr><th scope="col">Agent</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col">Budget used</th><th scope="col">Merged PRs</th><th scope="col">Reverts</th><th scope="col">Violations</th><th scope="col">Last activity</th></tr></thead><tbody>
${agents.map(
  (a) =>
    html`<tr><td><a href="/fleet/agents/${a.id}">${a.id}</a></td><td>${a.tier}</td><td class="${a.status === 'active' ? 'ok' : 'bad'}">${a.status}</td><td>${a.budgetUsed} / ${a.budgetLimit}</td><td>${a.mergedPrs}</td><td>${a.reverts}</td><td>${a.violations}</td><td>${time(a.lastActivity)}</td></tr>`,
)}
</tbody></table>`;
}

/** One agent: its record, a chart of budget and decisions, and its timeline from the ledger. */
export function agentPage(
  agent: AgentRow,
  chart: ChartInput,
  timeline: LedgerEntry[],
  viewer: Viewer,
): SafeHtml {
  return page(
    agent.id,
    viewer,
    html`<p><a href="/fleet">Fleet</a></p>
<h1>Agent ${agent.id}</h1>
<dl class="facts">
<dt>Tier</dt><dd>${agent.tier}</dd>
<dt>Status</dt><dd class="${agent.status === 'active' ? 'ok' : 'bad'}">${agent.status}</dd>
<dt>Budget used</dt><dd>${agent.budgetUsed} of ${agent.budgetLimit}</dd>
<dt>Merged PRs</dt><dd>${agent.mergedPrs}</dd>
<dt>Reverts and broken builds</dt><dd>${agent.reverts}</dd>
<dt>Violations</dt><dd>${agent.violations}</dd>
<dt>Last activity</dt><dd>${time(agent.lastActivity)}</dd>
</dl>
<h2 id="chart">Budget and decisions over time</h2>
${budgetChart(chart)}
<h2 id="timeline">Timeline (newest first)</h2>
<table><thead><tr><th scope="col">Entry</th><th scope="col">When</th><th scope="col">What</th><th scope="col">By</th><th scope="col">Detail</th></tr></thead><tbody>
${timeline.map((e) => html`<tr><td>${entryLink(e)}</td><td>${time(e.ts)}</td><td><code>${e.type}</code></td><td>${e.actor}</td><td>${describeEntry(e)}</td></tr>`)}
</tbody></table>`,
  );
}

/** An entry about a PR links to itself in the ledger list of that PR's decision page. */
function entryLink(e: LedgerEntry): SafeHtml | number {
  if (e.type !== 'decision.recorded') return e.seq;
  return html`<a href="/decisions/${e.payload.repository}/${e.payload.number}#entry-${e.seq}">${e.seq}</a>`;
}

function describeEntry(e: LedgerEntry): SafeHtml | string {
  switch (e.type) {
    case 'decision.recorded':
      return html`<a href="/decisions/${e.payload.repository}/${e.payload.number}">${e.payload.repository}#${e.payload.number}</a>: ${e.payload.outcome} — ${e.payload.summary}`;
    case 'violation.recorded':
      return `${e.payload.violation} (${e.payload.severity}, ${e.payload.consequence}, charge ${e.payload.budgetCharge}): ${e.payload.details}`;
    case 'agent.status_changed':
      return `${e.payload.from} → ${e.payload.to}: ${e.payload.reason}`;
    case 'agent.tier_changed':
      return `${e.payload.kind} ${e.payload.from} → ${e.payload.to}: ${e.payload.reason}`;
    case 'pr.merged':
      return html`<a href="/decisions/${e.payload.repository}/${e.payload.number}">${e.payload.repository}#${e.payload.number}</a> merged at ${e.payload.tier}`;
    case 'preflight.decided':
      return `${e.payload.action} on ${e.payload.repository}: ${e.payload.decision}`;
    default:
      return '';
  }
}
