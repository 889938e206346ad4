/**
 * The fleet: only for the people the configuration names; agents with their record and a filter,
 * PRs waiting for people oldest first with who each waits for, one agent's chart and timeline.
 */

import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { cookieHeader, REPO, recordWaitingDecision, signIn, startWebService } from './web-helpers.js';

let service: RunningService | null = null;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service?.stop();
  service = null;
  nock.cleanAll();
});

async function as(s: RunningService, login: string) {
  const { jar } = await signIn(s.port, login, [REPO]);
  return async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${s.port}${path}`, { headers: { cookie: cookieHeader(jar) } });
    return { status: res.status, text: await res.text() };
  };
}

const visible = (page: string) => page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('who sees the fleet', () => {
  it('a person the configuration does not name gets the same 404 as for a page that does not exist', async () => {
    service = await startWebService({ WEB_ADMINS: 'dana' });
    const mallory = await as(service, 'mallory');
    for (const path of ['/fleet', '/fleet/agents/builder-bot', '/fleet?status=active']) {
      const res = await mallory(path);
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain('builder-bot');
    }
    expect((await (await as(service, 'dana'))('/fleet')).status).toBe(200);
    expect((await (await as(service, 'alice'))('/fleet')).status).toBe(200);
  });
});

describe('the fleet page', () => {
  it('lists agents with their record and filters them; waiting PRs oldest first with who each waits for; the ledger head and last checkpoint', async () => {
    service = await startWebService();
    const s = service;
    await recordWaitingDecision(s, { number: 7, title: 'First' });
    await recordWaitingDecision(s, { number: 8, title: 'Second' });
    await s.runtime.governance.recordViolation(
      'builder-bot',
      { type: 'ci_failure', details: '<b>build</b> broke' },
      'github:test',
      'github',
    );
    const checkpoint = s.runtime.checkpoints!.create();
    const alice = await as(s, 'alice');

    const page = await alice('/fleet');
    const seen = visible(page.text);
    expect(page.status).toBe(200);
    expect(seen).toMatch(/builder-bot T2 active \d+(\.\d+)? \/ 20 0 0 1 \d{4}-/);
    expect(seen.indexOf('octo/widgets#7 First')).toBeLessThan(seen.indexOf('octo/widgets#8 Second'));
    expect(seen).toContain('security waiting : 1 more from alice, bob');
    expect(seen).toContain('platform waiting : 1 more from carol');
    expect(seen).toContain(`entry ${sqliteOf(s.runtime).head().seq}, ${sqliteOf(s.runtime).head().hash}`);
    expect(seen).toContain(`${checkpoint.checkpointId} at entry ${checkpoint.headSeq}`);
    expect(seen).toMatch(/the chain verifies up to entry \d+/);

    expect(visible((await alice('/fleet?status=revoked')).text)).toContain('No agent matches.');
    expect(visible((await alice('/fleet?tier=T2&q=build')).text)).toContain('builder-bot T2 active');
  });

  it('says when the service last verified the whole ledger, and what it found: at start-up, every entry', async () => {
    const first = await startWebService();
    await recordWaitingDecision(first);
    const ledgerPath = first.runtime.env.LEDGER_PATH;
    const entries = sqliteOf(first.runtime).head().seq;
    await first.stop();
    service = await startWebService({ LEDGER_PATH: ledgerPath });
    const seen = visible((await (await as(service, 'alice'))('/fleet')).text);
    expect(seen).toMatch(
      new RegExp(
        `Last verify at start-up, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ ?: the whole ledger verifies \\(the chain, its checkpoints and its projections\\), ${entries} entries in \\d+ ms`,
      ),
    );
  });

  it("one agent's page: its record, an SVG chart of budget and decisions, its timeline, every text escaped", async () => {
    service = await startWebService();
    const s = service;
    await recordWaitingDecision(s);
    await s.runtime.governance.recordViolation(
      'builder-bot',
      { type: 'ci_failure', details: '<script>alert(1)</script>' },
      'github:test',
      'github',
    );
    const alice = await as(s, 'alice');
    const page = await alice('/fleet/agents/builder-bot');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<svg class="chart" viewBox="0 0 640 220" role="img"/);
    expect(page.text).toMatch(/<path class="budget" d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+"><\/path>/);
    expect(page.text).toMatch(/<rect class="bar" /);
    expect(visible(page.text)).toMatch(/Budget used now: \d+(\.\d+)? of 20; 1 decision\(s\)/);
    expect(page.text).toContain(`<a href="/decisions/${REPO}/7">${REPO}#7</a>`);
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect((await alice('/fleet/agents/no-such-agent')).status).toBe(404);
  });
});
