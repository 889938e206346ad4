import { describe, expect, it } from 'vitest';
import { DEFAULT_WATCH_SETTINGS, type WatchHistory, watch } from '../../src/core/watch-rules.js';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3600_000).toISOString();
const empty = (): WatchHistory => ({ violations: [], decisions: [], waitingApprovals: [] });
const ci = (agentId: string, pr: string, hoursAgo: number, sha = 'abc') => ({
  agentId,
  type: 'ci_failure',
  source: `ci:${pr}@${sha}${hoursAgo}`,
  ts: at(hoursAgo),
});
const rules = (h: WatchHistory) => watch(h, DEFAULT_WATCH_SETTINGS, NOW).map((f) => f.key);

describe('bug watcher rules', () => {
  it('repeated CI failure on one PR, and silence for failures spread over PRs or outside the window', () => {
    const h = empty();
    h.violations = [ci('a', 'acme/web#4', 1), ci('a', 'acme/web#4', 2), ci('a', 'acme/web#4', 3)];
    expect(rules(h)).toEqual(['repeated_ci_failure:a:acme/web#4']);
    h.violations = [ci('a', 'acme/web#4', 1), ci('a', 'acme/web#5', 2), ci('a', 'acme/web#6', 3)];
    expect(rules(h)).toEqual([]);
    h.violations = [ci('a', 'acme/web#4', 1), ci('a', 'acme/web#4', 30), ci('a', 'acme/web#4', 40)];
    expect(rules(h)).toEqual([]);
  });

  it('repeated denials across PRs, and silence for one PR denied again and again', () => {
    const h = empty();
    h.decisions = [1, 2, 3].map((n) => ({
      agentId: 'b',
      repository: 'acme/web',
      number: n,
      outcome: 'deny',
      ts: at(n),
    }));
    expect(rules(h)).toEqual(['repeated_denials:b']);
    h.decisions = [1, 2, 3].map((n) => ({
      agentId: 'b',
      repository: 'acme/web',
      number: 9,
      outcome: 'deny',
      ts: at(n),
    }));
    expect(rules(h)).toEqual([]);
  });

  it('heartbeats flapping, and silence for two misses', () => {
    const h = empty();
    const miss = (n: number) => ({
      agentId: 'c',
      type: 'heartbeat_missed',
      source: `heartbeat:x:${n}`,
      ts: at(n),
    });
    h.violations = [miss(1), miss(2), miss(3)];
    expect(rules(h)).toEqual(['heartbeat_flapping:c']);
    h.violations = [miss(1), miss(2)];
    expect(rules(h)).toEqual([]);
  });

  it('a sudden rise of one violation type across many agents is systemic; one agent alone is not', () => {
    const h = empty();
    h.violations = ['a', 'b', 'c'].map((agentId, i) => ({
      agentId,
      type: 'dependency_change_unreviewed',
      source: `s${i}`,
      ts: at(i),
    }));
    expect(rules(h)).toEqual(['systemic_violation:dependency_change_unreviewed']);
    h.violations = [0, 1, 2].map((i) => ({
      agentId: 'a',
      type: 'dependency_change_unreviewed',
      source: `s${i}`,
      ts: at(i),
    }));
    expect(rules(h)).toEqual([]);
  });

  it('an approval waiting past its deadline, and silence before it', () => {
    const h = empty();
    h.waitingApprovals = [{ key: 'acme/web#7@abc', agentId: 'd', expiresAt: at(1) }];
    expect(rules(h)).toEqual(['approval_overdue:acme/web#7@abc']);
    h.waitingApprovals = [{ key: 'acme/web#7@abc', agentId: 'd', expiresAt: at(-1) }];
    expect(rules(h)).toEqual([]);
  });
});
