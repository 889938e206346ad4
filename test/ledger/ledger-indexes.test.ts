/**
 * Queries on the chain by entry type and agent walk an index, not the whole ledger (issue 12,
 * item 5): at a million entries a scan holds the event loop for a second on every call.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/open-runtime.js';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { testRuntime } from '../helpers/runtime.js';

let runtime: Runtime | null = null;
afterEach(async () => {
  await runtime?.close();
  runtime = null;
});

/** The hot queries on `ledger_entries` filtered by type and/or agent, as the service sends them. */
const HOT_QUERIES: Record<string, [string, unknown[]]> = {
  'an agent’s last bad outcome (promotion eligibility, suggestions)': [
    "SELECT MAX(ts) AS ts FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ?",
    ['alpha'],
  ],
  'an agent’s bad outcomes since a day (suggestions)': [
    "SELECT ts, payload FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ? AND ts >= ? ORDER BY seq",
    ['alpha', '2026-01-01'],
  ],
  'whether a PR’s bad outcome was counted (bad outcomes)': [
    "SELECT payload FROM ledger_entries WHERE type = 'pr.bad_outcome'",
    [],
  ],
  'an agent’s latest revocation (a Vault token issued during one)': [
    "SELECT payload FROM ledger_entries WHERE type = 'revocation.requested' AND agent_id = ? ORDER BY seq DESC LIMIT 1",
    ['alpha'],
  ],
  'the latest council membership (every council sync)': [
    "SELECT payload FROM ledger_entries WHERE seq > ? AND seq <= ? AND type = 'council.membership' ORDER BY seq DESC LIMIT 1",
    [0, 1000],
  ],
  'open findings (every watcher run)': [
    "SELECT type, payload FROM ledger_entries WHERE type IN ('finding.raised', 'finding.resolved') ORDER BY seq",
    [],
  ],
  'decisions of the last 30 days (suggestions)': [
    "SELECT payload FROM ledger_entries WHERE type = 'decision.recorded' AND ts >= ?",
    ['2026-01-01'],
  ],
  'an agent’s promotion requests (agov promotions list --agent)': [
    "SELECT payload FROM ledger_entries WHERE type = 'promotion.requested' AND agent_id = ? ORDER BY seq DESC",
    ['alpha'],
  ],
  'execution locks (state rebuild)': [
    "SELECT ts, agent_id, payload FROM ledger_entries WHERE type = 'execution.lock' ORDER BY seq",
    [],
  ],
  'the click a webhook delivery recorded (check-run buttons, on every click)': [
    `SELECT payload FROM ledger_entries WHERE type = 'check_run.button'
        AND json_extract(payload, '$.deliverySeq') = ? LIMIT 1`,
    [7],
  ],
  'the last reminder to a PR’s approvers (check-run buttons)': [
    `SELECT ts, payload FROM ledger_entries WHERE type = 'check_run.button'
        AND json_extract(payload, '$.repository') = ? AND json_extract(payload, '$.number') = ?
        AND json_extract(payload, '$.headSha') = ? AND json_extract(payload, '$.button') = 'ask_approvers'
        AND json_extract(payload, '$.accepted') = 1
      ORDER BY seq DESC LIMIT 1`,
    ['acme/web', 2, 'a'.repeat(40)],
  ],
  'a merged PR by repository and number (bad outcomes)': [
    `SELECT agent_id, json_extract(payload, '$.number') AS number, json_extract(payload, '$.headSha') AS head_sha
       FROM ledger_entries WHERE type = 'pr.merged' AND json_extract(payload, '$.repository') = ?
       AND json_extract(payload, '$.number') = ? ORDER BY seq DESC LIMIT 1`,
    ['acme/web', 2],
  ],
  'a deployment’s newest answer (every vote on it, its card)': [
    `SELECT seq, ts, payload FROM ledger_entries
       WHERE type = 'deployment.decided' AND json_extract(payload, '$.repository') = ?
         AND json_extract(payload, '$.runId') = ? AND json_extract(payload, '$.environment') = ? AND seq < ?
       ORDER BY seq DESC LIMIT 1`,
    ['acme/web', 1, 'production', 1000],
  ],
  'the votes on a waiting deployment (every vote on it, its card)': [
    `SELECT ts, payload FROM ledger_entries
       WHERE type = 'deployment.vote' AND json_extract(payload, '$.approvalKey') = ?
         AND json_extract(payload, '$.requestSeq') = ?
       ORDER BY seq`,
    ['deployment:acme/web:run:1:env:production', 7],
  ],
  'deployments waiting for votes (every expiry pass)': [
    `SELECT r.seq, r.ts, r.payload FROM ledger_entries r
       WHERE r.type = 'deployment.decided' AND json_extract(r.payload, '$.state') = 'waiting'
         AND json_extract(r.payload, '$.approval') IS NOT NULL
         AND NOT EXISTS (
           SELECT 1 FROM ledger_entries s
           WHERE s.type = 'deployment.decided' AND s.seq > r.seq
             AND json_extract(s.payload, '$.repository') = json_extract(r.payload, '$.repository')
             AND json_extract(s.payload, '$.runId') = json_extract(r.payload, '$.runId')
             AND json_extract(s.payload, '$.environment') = json_extract(r.payload, '$.environment'))
       ORDER BY r.seq`,
    [],
  ],
};

describe('ledger queries by type and agent', () => {
  it.each(Object.entries(HOT_QUERIES))('%s walks an index', async (_name, [sql, params]) => {
    runtime ??= await testRuntime();
    const plan = dbOf(sqliteOf(runtime))
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => (row as { detail: string }).detail);
    const onChain = plan.filter((d) => / ledger_entries\b| [rs]\b/.test(d) && /^(SCAN|SEARCH)/.test(d));
    expect(onChain.length).toBeGreaterThan(0);
    for (const step of onChain) expect(step).toMatch(/USING (COVERING )?INDEX ledger_entries_type_agent/);
  });
});

/**
 * The decisions of a head commit, read in the transaction of every decision's write (a commit's
 * check shows each PR at it) and on every check-run click: a walk over all the repository's
 * decisions grew with the ledger (issue 14).
 */
const AT_HEAD_QUERIES: Record<string, [string, unknown[]]> = {
  'the other PRs at a head commit (every decision, its commit check)': [
    `SELECT d.number, d.outcome, json_extract(e.payload, '$.summary') AS summary
       FROM decisions d INDEXED BY decisions_head JOIN ledger_entries e ON e.seq = d.seq
      WHERE d.repository = ? AND d.head_sha = ? AND d.number <> ?
        AND d.seq = (SELECT max(x.seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)
      ORDER BY d.number`,
    ['acme/web', 'a'.repeat(40), 2],
  ],
  'the PR most recently decided at a head commit (check-run clicks)': [
    'SELECT number FROM decisions WHERE repository = ? AND head_sha = ? ORDER BY seq DESC LIMIT 1',
    ['acme/web', 'a'.repeat(40)],
  ],
};

describe('decisions by head commit', () => {
  it.each(Object.entries(AT_HEAD_QUERIES))('%s walks the head index', async (_name, [sql, params]) => {
    runtime ??= await testRuntime();
    const plan = dbOf(sqliteOf(runtime))
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => (row as { detail: string }).detail);
    const outer = plan.filter((d) => /^(SCAN|SEARCH) d\b|^(SCAN|SEARCH) decisions\b/.test(d));
    expect(outer).toHaveLength(1);
    expect(outer[0]).toMatch(/USING (COVERING )?INDEX decisions_head \(repository=\? AND head_sha=\?\)/);
  });
});

/**
 * Pending deliveries are counted (the drain before shutdown, health) through `inbox_due`: the only
 * inbox index besides the delivery id's once `inbox_pending`, written by every stored delivery
 * and read by nothing else, is gone (issue 14).
 */
describe('pending deliveries', () => {
  it.each([
    ["SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending' AND source = ?", ['github']],
    ["SELECT COUNT(*) AS n FROM inbox WHERE source IN ('github', 'slack') AND status = 'pending'", []],
  ] as const)('%s walks inbox_due', async (sql, params) => {
    runtime ??= await testRuntime();
    const db = dbOf(sqliteOf(runtime));
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inbox'")
      .all();
    expect(indexes.map((i) => (i as { name: string }).name).sort()).toEqual([
      'inbox_due',
      'sqlite_autoindex_inbox_1',
    ]);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => (row as { detail: string }).detail);
    expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX inbox_due/);
  });
});
