/** The one stylesheet (served from our origin: the CSP allows no inline style). Readable at 360 px. */
export const STYLESHEET = `
:root { color-scheme: light dark; --muted: #6a737d; --ok: #1a7f37; --bad: #cf222e; --wait: #9a6700; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; justify-content: space-between; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
header.top nav a { margin-right: 1rem; font-weight: 600; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; display: block; overflow-x: auto; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
code, .hash { font-family: ui-monospace, monospace; font-size: .9em; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.state { font-weight: 700; }
.state-approved, .state-allow, .ok { color: var(--ok); }
.state-rejected, .state-vetoed, .state-expired, .state-unreachable, .state-deny, .bad { color: var(--bad); }
.state-waiting, .state-require_approval, .state-pending { color: var(--wait); }
.gate { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
.muted { color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; }
svg.chart { width: 100%; max-width: 48rem; height: auto; }
svg.chart .budget { fill: none; stroke: var(--bad); stroke-width: 2; }
svg.chart .bar { fill: var(--wait); }
svg.chart .axis { stroke: var(--muted); }
svg.chart text { fill: currentColor; font-size: 11px; }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #0969da; outline-offset: 2px; }
@media (max-width: 40rem) {
  main { padding: .5rem; }
  th, td { padding: .25rem .35rem; font-size: .9em; }
  td { overflow-wrap: anywhere; min-width: 5rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .35rem; }
}
`;
