import { html, type SafeHtml } from './html.js';

export interface ChartInput {
  charges: { ts: string; charge: number }[];
  decisions: { ts: string }[];
  budgetLimit: number;
  windowHours: number;
  now: Date;
}

const W = 640;
const H = 220;
const PAD = { left: 40, right: 12, top: 14, bottom: 30 };
const DAY = 86_400_000;

interface Scale {
  start: number;
  days: number;
  plotH: number;
  x: (t: number) => number;
}

/** From the first day with a charge or decision (a week at least) to the end of today. */
function scaleOf(input: ChartInput): Scale {
  const times = [
    ...input.charges.map((c) => Date.parse(c.ts)),
    ...input.decisions.map((d) => Date.parse(d.ts)),
  ];
  const end = Math.ceil(input.now.getTime() / DAY) * DAY;
  const start = Math.min(end - 7 * DAY, ...times.map((t) => Math.floor(t / DAY) * DAY));
  return {
    start,
    days: Math.round((end - start) / DAY),
    plotH: H - PAD.top - PAD.bottom,
    x: (t: number) => PAD.left + ((t - start) / (end - start)) * (W - PAD.left - PAD.right),
  };
}

/** Budget used at a time: the charges within the rolling window ending then, as the budget counts. */
function usedAt(input: ChartInput): (t: number) => number {
  const windowMs = input.windowHours * 3600_000;
  return (t) =>
    input.charges
      .filter((c) => Date.parse(c.ts) <= t && Date.parse(c.ts) > t - windowMs)
      .reduce((n, c) => n + c.charge, 0);
}

/** The budget line as a step path, and the y of a budget value on the chart. */
function budgetLine(input: ChartInput, scale: Scale, used: (t: number) => number) {
  const windowMs = input.windowHours * 3600_000;
  // Budget used changes when a charge lands and when one leaves the window: sample at both.
  const samples = [
    scale.start,
    ...input.charges.flatMap((c) => [Date.parse(c.ts), Date.parse(c.ts) + windowMs]),
    input.now.getTime(),
  ]
    .filter((t) => t >= scale.start && t <= input.now.getTime())
    .sort((a, b) => a - b);
  const maxBudget = Math.max(input.budgetLimit, ...samples.map(used));
  const y = (v: number) => PAD.top + scale.plotH - (v / maxBudget) * scale.plotH;
  const { x } = scale;
  let path = '';
  let last = 0;
  for (const t of samples) {
    const v = used(t);
    path += path
      ? ` L${x(t).toFixed(1)},${y(last).toFixed(1)} L${x(t).toFixed(1)},${y(v).toFixed(1)}`
      : `M${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    last = v;
  }
  return { path, y };
}

/** One bar per day with decisions, as tall as its count (relative to the busiest day). */
function decisionBars(input: ChartInput, scale: Scale): SafeHtml[] {
  const perDay = new Map<number, number>();
  for (const d of input.decisions) {
    const day = Math.floor(Date.parse(d.ts) / DAY) * DAY;
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const maxBar = Math.max(1, ...perDay.values());
  const barW = Math.max(1, (W - PAD.left - PAD.right) / scale.days - 2);
  return [...perDay].map(([day, n]) => {
    const h = (n / maxBar) * scale.plotH * 0.6;
    return html`<rect class="bar" x="${(scale.x(day) + 1).toFixed(1)}" y="${(PAD.top + scale.plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}"><title>${new Date(day).toISOString().slice(0, 10)}: ${n} decision(s)</title></rect>`;
  });
}

/**
 * Budget used (within the rolling window, as the budget counts it) as a line, and decisions per
 * day as bars, over the agent's history. Drawn on the server as SVG: no script, numbers only, and
 * a text summary beside it for people who do not look at pictures.
 */
export function budgetChart(input: ChartInput): SafeHtml {
  const scale = scaleOf(input);
  const { start, days, plotH } = scale;
  const used = usedAt(input);
  const budget = budgetLine(input, scale, used);
  const bars = decisionBars(input, scale);
  const limitY = budget.y(input.budgetLimit).toFixed(1);
  const summary = `Budget used now: ${used(input.now.getTime())} of ${input.budgetLimit}; ${input.decisions.length} decision(s) over ${days} day(s).`;
  return html`<figure>
<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Budget used and decisions per day</title>
<desc id="chart-desc">${summary}</desc>
<line class="axis" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}"></line>
<line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}"></line>
<line class="axis" x1="${PAD.left}" y1="${limitY}" x2="${W - PAD.right}" y2="${limitY}" stroke-dasharray="4 4"></line>
<text x="2" y="${limitY}">limit ${input.budgetLimit}</text>
${bars}
<path class="budget" d="${budget.path}"></path>
<text x="${PAD.left}" y="${H - 8}">${new Date(start).toISOString().slice(0, 10)}</text>
<text x="${W - PAD.right - 70}" y="${H - 8}">${input.now.toISOString().slice(0, 10)}</text>
</svg>
<figcaption>${summary} Line: budget used in the rolling ${input.windowHours} h window. Bars: decisions per day.</figcaption>
</figure>`;
}
