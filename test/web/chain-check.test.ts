import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { ChainChecker } from '../../src/web/chain-check.js';
import { sqlite } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

describe('the chain check behind the pages', () => {
  it('verifies the whole chain at most once a minute, checks only new entries between, and still catches an edit', async () => {
    const rt = await testRuntime();
    try {
      const append = (n: number) =>
        sqliteOf(rt).appendAll(
          Array.from({ length: n }, (_, i) => ({
            type: 'integration.event' as const,
            agentId: null,
            actor: 'test',
            payload: { event: 'heartbeat' as const, data: { i } },
          })),
        );
      append(50);
      let clock = 0;
      const checker = new ChainChecker(rt.store.reader, { now: () => clock, fullEveryMs: 60_000 });
      expect(await checker.check(50)).toEqual({ ok: true, upTo: 50 });
      // An attacker on the host rewrites an entry already verified, hash left alone.
      const edit = sqlite(
        rt.env.LEDGER_PATH,
        "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 10;",
      );
      expect(edit.stderr).toBe('');
      append(5);
      clock += 30_000;
      // Between full checks only the new entries are hashed: still reported up to the new head.
      expect(await checker.check(55)).toEqual({ ok: true, upTo: 55 });
      clock += 30_000;
      expect(await checker.check(55)).toMatchObject({ ok: false, firstBadSeq: 10 });
      // Once found, the failure stays on every page until the next full check finds it again.
      expect(await checker.check(20)).toMatchObject({ ok: false, firstBadSeq: 10 });
    } finally {
      await rt.close();
    }
  });

  it('walks a chain longer than one read, and finds an edit past the first thousand entries', async () => {
    const rt = await testRuntime();
    try {
      for (let i = 0; i < 3; i++)
        sqliteOf(rt).appendAll(
          Array.from({ length: 900 }, (_, j) => ({
            type: 'integration.event' as const,
            agentId: null,
            actor: 'test',
            payload: { event: 'heartbeat' as const, data: { i, j } },
          })),
        );
      const head = sqliteOf(rt).head().seq;
      expect(head).toBe(2700);
      const edit = sqlite(
        rt.env.LEDGER_PATH,
        "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2345;",
      );
      expect(edit.stderr).toBe('');
      const checker = new ChainChecker(rt.store.reader, { now: () => 0 });
      // Two pages asking at once: one walk, the same answer to both.
      const [a, b] = await Promise.all([checker.check(2000), checker.check(head)]);
      expect(a).toEqual({ ok: true, upTo: 2000 });
      expect(b).toEqual({
        ok: false,
        upTo: head,
        firstBadSeq: 2345,
        reason: 'entry 2345 was changed after it was written',
      });
    } finally {
      await rt.close();
    }
  });
});
