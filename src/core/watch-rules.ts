/**
 * The bug watcher's rules: patterns across the event stream that no single event shows. Pure
 * functions of a window of history; each finding has a stable key, so an open finding is not
 * raised twice.
 */
export interface WatchHistory {
  violations: { agentId: string; type: string; source: string; ts: string }[];
  decisions: { agentId: string | null; repository: string; number: number; outcome: string; ts: string }[];
  /** Approval requests still waiting, with their deadline. */
  waitingApprovals: { key: string; agentId: string; expiresAt: string }[];
}

export interface WatchSettings {
  windowHours: number;
  repeatedCiFailures: number;
  repeatedDenials: number;
  heartbeatFlaps: number;
  /** Distinct agents with the same violation type in the window that make it systemic. */
  systemicAgents: number;
}

export const DEFAULT_WATCH_SETTINGS: WatchSettings = {
  windowHours: 24,
  repeatedCiFailures: 3,
  repeatedDenials: 3,
  heartbeatFlaps: 3,
  systemicAgents: 3,
};

export const WATCH_RULES = [
  'repeated_ci_failure',
  'repeated_denials',
  'heartbeat_flapping',
  'systemic_violation',
  'approval_overdue',
] as const;
export type WatchRule = (typeof WATCH_RULES)[number];

export interface Finding {
  /** `rule:subject`: the same finding while it stays true. */
  key: string;
  rule: WatchRule;
  agentId: string | null;
  summary: string;
  evidence: string[];
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) m.set(key(item), [...(m.get(key(item)) ?? []), item]);
  return m;
}

export function watch(history: WatchHistory, settings: WatchSettings, now: Date): Finding[] {
  const since = new Date(now.getTime() - settings.windowHours * 3600_000).toISOString();
  const violations = history.violations.filter((v) => v.ts >= since);
  const denials = history.decisions.filter((d) => d.ts >= since && d.outcome === 'deny' && d.agentId);
  return [
    ...repeatedCiFailures(violations, settings),
    ...repeatedDenials(denials, settings),
    ...heartbeatFlapping(violations, settings),
    ...systemicViolations(violations, settings),
    ...overdueApprovals(history.waitingApprovals, now),
  ];
}

type Violation = WatchHistory['violations'][number];

/** One agent failing CI again and again on one PR (any of its commits). */
function repeatedCiFailures(violations: Violation[], settings: WatchSettings): Finding[] {
  const ci = violations.filter((v) => v.type === 'ci_failure');
  const findings: Finding[] = [];
  for (const [key, group] of countBy(
    ci,
    (v) => `${v.agentId}|${v.source.replace(/^ci:/, '').replace(/@.*$/, '')}`,
  )) {
    if (group.length < settings.repeatedCiFailures) continue;
    const [agentId, pr] = key.split('|') as [string, string];
    findings.push({
      key: `repeated_ci_failure:${agentId}:${pr}`,
      rule: 'repeated_ci_failure',
      agentId,
      summary: `${agentId} failed CI ${group.length} times on ${pr} in ${settings.windowHours} h`,
      evidence: group.map((v) => `${v.ts} ${v.source}`),
    });
  }
  return findings;
}

/** One agent with many different PRs denied (one PR denied again and again is not it). */
function repeatedDenials(denials: WatchHistory['decisions'], settings: WatchSettings): Finding[] {
  const findings: Finding[] = [];
  for (const [agentId, group] of countBy(denials, (d) => d.agentId!)) {
    const prs = new Set(group.map((d) => `${d.repository}#${d.number}`));
    if (prs.size < settings.repeatedDenials) continue;
    findings.push({
      key: `repeated_denials:${agentId}`,
      rule: 'repeated_denials',
      agentId,
      summary: `${agentId} had ${prs.size} PRs denied in ${settings.windowHours} h`,
      evidence: [...prs],
    });
  }
  return findings;
}

/** One agent missing heartbeats again and again: its runner, not one execution. */
function heartbeatFlapping(violations: Violation[], settings: WatchSettings): Finding[] {
  const findings: Finding[] = [];
  for (const [agentId, group] of countBy(
    violations.filter((v) => v.type === 'heartbeat_missed'),
    (v) => v.agentId,
  )) {
    if (group.length < settings.heartbeatFlaps) continue;
    findings.push({
      key: `heartbeat_flapping:${agentId}`,
      rule: 'heartbeat_flapping',
      agentId,
      summary: `${agentId} missed ${group.length} heartbeats in ${settings.windowHours} h: its runner may be unstable`,
      evidence: group.map((v) => `${v.ts} ${v.source}`),
    });
  }
  return findings;
}

/** One violation type by many different agents: the cause is shared, not one agent's. */
function systemicViolations(violations: Violation[], settings: WatchSettings): Finding[] {
  const findings: Finding[] = [];
  for (const [type, group] of countBy(violations, (v) => v.type)) {
    const agents = new Set(group.map((v) => v.agentId));
    if (agents.size < settings.systemicAgents) continue;
    findings.push({
      key: `systemic_violation:${type}`,
      rule: 'systemic_violation',
      agentId: null,
      summary: `${type} by ${agents.size} different agents in ${settings.windowHours} h: a systemic problem, not one agent`,
      evidence: [...agents].sort(),
    });
  }
  return findings;
}

/** Approval requests still waiting past their deadline. */
function overdueApprovals(waiting: WatchHistory['waitingApprovals'], now: Date): Finding[] {
  return waiting
    .filter((a) => a.expiresAt < now.toISOString())
    .map((a) => ({
      key: `approval_overdue:${a.key}`,
      rule: 'approval_overdue',
      agentId: a.agentId,
      summary: `the approval for ${a.key} waited past its deadline (${a.expiresAt})`,
      evidence: [a.key],
    }));
}
