import { expect, it } from 'vitest';
import { CHAOS_FAULTS } from '../../src/chaos/chaos-options.js';
import { runChaos } from '../../src/chaos/run-chaos.js';
import { agov } from '../helpers/agov.js';

it('a minute of chaos with Redis, GitHub, Slack, Vault and the service process failing keeps every invariant', {
  timeout: 240_000,
}, async () => {
  const report = await runChaos({ agents: 8, durationMs: 60_000, seed: 11, faults: [...CHAOS_FAULTS] });
  const failed = report.invariants.filter((i) => !i.ok);
  expect(failed).toEqual([]);
  // Every kind of fault happened, the service was killed with SIGKILL and came back, and the agents
  // did enough for the invariants to mean something.
  for (const fault of CHAOS_FAULTS) expect(report.stats[`fault.${fault}`], fault).toBeGreaterThan(0);
  expect(report.stats.pullRequests).toBeGreaterThan(200);
  const count = (name: string) => report.invariants.find((i) => i.name === name)!.count;
  expect(count('no two holders of one lock at once')).toBeGreaterThan(0);
  expect(count('every answered agent event has exactly one ledger entry')).toBeGreaterThan(0);
  expect(count('every revocation confirmed after recovery')).toBeGreaterThan(0);
  expect(count('no revoked agent keeps a Vault token or secret-id')).toBeGreaterThan(0);
});

it('a deliberately broken build (lock releases without the fencing check) fails on the lock invariant', {
  timeout: 120_000,
}, async () => {
  // Long enough that a loaded machine still makes many lock grants for the defect to show in.
  const report = await runChaos({ agents: 6, durationMs: 15_000, seed: 5, faults: [], defect: 'no-fencing' });
  expect(report.ok).toBe(false);
  expect(report.invariants.filter((i) => !i.ok).map((i) => i.name)).toEqual([
    'no two holders of one lock at once',
  ]);
});

it('the same seed gives the same fault schedule', { timeout: 120_000 }, async () => {
  const schedule = async (seed: number) => {
    const lines: string[] = [];
    await runChaos({
      agents: 2,
      durationMs: 6_000,
      seed,
      faults: ['github', 'slack', 'vault'],
      print: (l) => lines.push(l),
    });
    return lines.filter((l) => l.includes('fault:'));
  };
  const [a, b, c] = [await schedule(3), await schedule(3), await schedule(4)];
  const n = Math.min(a.length, b.length);
  expect(n).toBeGreaterThan(1);
  expect(a.slice(0, n)).toEqual(b.slice(0, n));
  expect(c.slice(0, n)).not.toEqual(a.slice(0, n));
});

it('agov chaos refuses unknown faults in one line', () => {
  const r = agov(['chaos', '--faults', 'redis,volcano']);
  expect(r.status).toBe(2);
  expect(r.stderr.trim()).toBe(
    'agov: unknown fault(s) volcano; choose from redis, github, slack, vault, service',
  );
});
