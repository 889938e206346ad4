/**
 * The pages link to each other the way a reader moves: fleet → agent → decision → the ledger entry
 * behind it, and back to the PR on GitHub. Every link on the pages is followed through the running
 * service: it answers 200, and a link to an entry lands on an element with that id.
 */

import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import {
  cookieHeader,
  REPO,
  recordApproval,
  recordWaitingDecision,
  signIn,
  startWebService,
} from './web-helpers.js';

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

const hrefs = (page: string) =>
  [...page.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));

describe('links between PR, agent, decision and ledger entry', () => {
  it('fleet → agent → decision → ledger entry, and the PR on GitHub; every link on the way resolves', async () => {
    service = await startWebService();
    const s = service;
    await recordWaitingDecision(s);
    await recordApproval(s, 'alice', 'security');
    const decisionSeq = (
      dbOf(sqliteOf(s.runtime))
        .prepare("SELECT seq FROM ledger_entries WHERE type = 'decision.recorded' ORDER BY seq DESC LIMIT 1")
        .get() as { seq: number }
    ).seq;
    const { jar } = await signIn(s.port, 'alice', [REPO]);
    const base = `http://127.0.0.1:${s.port}`;
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { cookie: cookieHeader(jar) } });
      return { status: res.status, text: await res.text() };
    };

    const fleet = await get('/fleet');
    expect(hrefs(fleet.text)).toEqual(
      expect.arrayContaining([`/decisions/${REPO}/7`, '/fleet/agents/builder-bot']),
    );
    const agent = await get('/fleet/agents/builder-bot');
    // The agent's timeline links each decision to its entry on the decision page.
    expect(hrefs(agent.text)).toContain(`/decisions/${REPO}/7#entry-${decisionSeq}`);
    const decision = await get(`/decisions/${REPO}/7`);
    expect(hrefs(decision.text)).toEqual(
      expect.arrayContaining([
        `https://github.com/${REPO}/pull/7`,
        '/fleet/agents/builder-bot',
        `#entry-${decisionSeq}`,
      ]),
    );

    for (const [from, page] of [
      ['/fleet', fleet.text],
      ['/fleet/agents/builder-bot', agent.text],
      [`/decisions/${REPO}/7`, decision.text],
    ] as const) {
      for (const href of hrefs(page)) {
        if (/^https?:/.test(href)) continue; // GitHub's own pages
        const target = new URL(href, `${base}${from}`);
        const landed = await get(target.pathname + target.search);
        expect(landed.status, `${from} → ${href}`).toBe(200);
        if (target.hash) expect(landed.text, `${from} → ${href}`).toContain(`id="${target.hash.slice(1)}"`);
      }
    }
  });
});
