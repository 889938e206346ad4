import { expect, it } from 'vitest';
import { runChaos } from '../../src/chaos/run-chaos.js';
import { agov } from '../helpers/agov.js';

it('a chaos run with Redis, GitHub, Slack and the service failing keeps every invariant', {
  timeout: 120_000,
}, async () => {
  const report = await runChaos({
    agents: 6,
    durationMs: 12_000,
    seed: 11,
    faults: ['redis', 'github', 'slack', 'service'],
  });
  const failed = report.invariants.filter((i) => !i.ok);
  expect(failed).toEqual([]);
  expect(report.stats.faults).toBeGreaterThan(2);
  expect(report.stats.pullRequests).toBeGreaterThan(20);
  expect(
    report.invariants.find((i) => i.name === 'no two holders of one lock at once')!.count,
  ).toBeGreaterThan(0);
});

it('a deliberately broken build (lock releases without the fencing check) fails on the lock invariant', {
  timeout: 120_000,
}, async () => {
  const report = await runChaos({ agents: 6, durationMs: 6_000, seed: 5, faults: [], defect: 'no-fencing' });
  expect(report.ok).toBe(false);
  expect(report.invariants.filter((i) => !i.ok).map((i) => i.name)).toEqual([
    'no two holders of one lock at once',
  ]);
});

it('agov chaos refuses unknown faults in one line', () => {
  const r = agov(['chaos', '--faults', 'redis,volcano']);
  expect(r.status).toBe(2);
  expect(r.stderr.trim()).toBe('agov: unknown fault(s) volcano; choose from redis, github, slack, service');
});
