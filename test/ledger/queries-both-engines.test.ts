/**
 * Every query of src/ledger/queries, asynchronously, on SQLite and on PostgreSQL seeded with the
 * same hostile history: each must give both engines' users the same answer. Hostile inputs first.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsyncLedger } from '../../src/ledger/async-ledger.js';
import { openLedger } from '../../src/ledger/ledger.js';
import type { LedgerReader } from '../../src/ledger/ledger-reader.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { adminAsync } from '../../src/ledger/queries/admin.js';
import { agentsAsync } from '../../src/ledger/queries/agents.js';
import { approvalsAsync } from '../../src/ledger/queries/approvals.js';
import { checkRunButtonsAsync } from '../../src/ledger/queries/check-run-buttons.js';
import { checkRunsAsync } from '../../src/ledger/queries/check-runs.js';
import { councilAsync } from '../../src/ledger/queries/council.js';
import { decisionViewsAsync } from '../../src/ledger/queries/decision-views.js';
import { decisionsAsync } from '../../src/ledger/queries/decisions.js';
import { deploymentsAsync } from '../../src/ledger/queries/deployments.js';
import { fleetViewsAsync } from '../../src/ledger/queries/fleet-views.js';
import { locksAsync } from '../../src/ledger/queries/locks.js';
import { outcomesAsync } from '../../src/ledger/queries/outcomes.js';
import { promotionsAsync } from '../../src/ledger/queries/promotions.js';
import { revocationsAsync } from '../../src/ledger/queries/revocations.js';
import { violationsAsync } from '../../src/ledger/queries/violations.js';
import { watchAsync } from '../../src/ledger/queries/watch.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { tempDir } from '../helpers/agov.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { REPO, SHA, seedQueries } from './query-history.js';

const MODULES = {
  adminAsync,
  agentsAsync,
  approvalsAsync,
  checkRunButtonsAsync,
  checkRunsAsync,
  councilAsync,
  decisionViewsAsync,
  decisionsAsync,
  deploymentsAsync,
  fleetViewsAsync,
  locksAsync,
  outcomesAsync,
  promotionsAsync,
  revocationsAsync,
  violationsAsync,
  watchAsync,
};
type AnyRead = (reader: LedgerReader, ...params: never[]) => Promise<unknown>;
const query = (name: string): AnyRead => {
  const [module, fn] = name.split('.') as [keyof typeof MODULES, string];
  return (MODULES[module] as unknown as Record<string, AnyRead>)[fn]!;
};

/** The writes: the seeding calls them on both engines, and every read after compares what they wrote. */
const WRITES = [
  'agentsAsync.saveSessionCheckpoint',
  'approvalsAsync.remember',
  'approvalsAsync.setState',
  'approvalsAsync.rememberSlackMessage',
  'checkRunsAsync.rememberCheckRun',
];

const REPOS = [...Object.values(REPO), 'ACME/WEB', 'acme/web ', '%', '_', '?', "'", ''];
const NUMBERS = [-1, 0, 1, 2, 3, 7, 8, 2147483647, 2 ** 31, Number.MAX_SAFE_INTEGER];
const SHAS = [...Object.values(SHA), SHA.a.toUpperCase(), '?', 'm'.repeat(40)];
const AGENTS = ['docs-bot', 'test-bot', 'infra-bot', 'DOCS-BOT', 'nobody', "o'bot?%_"];
const TIMES = ['', '2026-11-27T10:03:00.000Z', '2026-11-27T10:03', '9999', '\u{10ffff}'];
const KEYS = ['k2', "k'1?", 'K0', 'k0', 'promotion:p1', '%'];
const cross = <A, B>(as: readonly A[], bs: readonly B[]) =>
  as.flatMap((a) => bs.map((b) => [a, b] as [A, B]));

/** The arguments each read is called with on both engines. */
const CASES: Record<string, unknown[][]> = {
  'adminAsync.entriesByType': [[]],
  'adminAsync.counts': [[]],
  'adminAsync.allEntries': [[]],
  'adminAsync.backlog': [[]],
  'adminAsync.outboxCountsByStatus': [[]],
  'agentsAsync.agentMetrics': AGENTS.map((a) => [a]),
  'agentsAsync.allAgentMetrics': [[]],
  'agentsAsync.agentStatus': AGENTS.map((a) => [a]),
  'agentsAsync.agentCredentials': AGENTS.map((a) => [a]),
  'agentsAsync.agentOwner': AGENTS.map((a) => [a]),
  'agentsAsync.latestRevocationId': AGENTS.map((a) => [a]),
  'agentsAsync.latestSessionCheckpoint': AGENTS.map((a) => [a]),
  'approvalsAsync.request': KEYS.map((k) => [k]),
  'approvalsAsync.state': KEYS.map((k) => [k]),
  'approvalsAsync.message': KEYS.map((k) => [k]),
  'approvalsAsync.pendingOnPullRequest': cross(REPOS, NUMBERS),
  'approvalsAsync.pendingOfAgent': AGENTS.map((a) => [a]),
  'approvalsAsync.pending': [[]],
  'approvalsAsync.slackVotes': cross(REPOS, NUMBERS).flatMap(([r, n]) => SHAS.map((s) => [r, n, s])),
  'approvalsAsync.latestDecision': cross(REPOS, NUMBERS),
  'approvalsAsync.slackMessage': KEYS.map((k) => [k]),
  'approvalsAsync.resolution': cross(AGENTS, KEYS),
  'approvalsAsync.reviewRecorded': cross(REPOS, NUMBERS).flatMap(([r, n]) => [
    [r, n, 'alice', 'approve', 1],
    [r, n, 'alice', 'approve', 2 ** 31],
  ]),
  'checkRunButtonsAsync.clickOfDelivery': NUMBERS.concat(5, 6).map((n) => [n]),
  'checkRunButtonsAsync.lastAskedApprovers': cross(REPOS, NUMBERS).map(([r, n]) => [r, n, SHA.b]),
  'checkRunsAsync.checkRunId': REPOS.map((r) => [r, SHA.c, 'Agent Governance']),
  'councilAsync.latestMembership': [[]],
  'decisionViewsAsync.canonicalRepository': cross(REPOS, NUMBERS),
  'decisionViewsAsync.pullRequestAt': cross(REPOS, SHAS),
  'decisionViewsAsync.decisions': cross(REPOS, NUMBERS),
  'decisionViewsAsync.receipts': cross(REPOS, NUMBERS),
  'decisionViewsAsync.agentOwner': AGENTS.map((a) => [a]),
  'decisionViewsAsync.recentDecisions': [[]],
  'decisionViewsAsync.mergeGroupAt': cross(REPOS, SHAS),
  'decisionViewsAsync.entriesBetween': cross(NUMBERS, NUMBERS),
  'decisionsAsync.waitingSince': cross(REPOS, NUMBERS).map(([r, n]) => [r, n, SHA.a]),
  'decisionsAsync.approvalReceipts': cross(REPOS, NUMBERS),
  'decisionsAsync.latestDecision': cross(REPOS, NUMBERS),
  'decisionsAsync.newestDecision': cross(REPOS, NUMBERS),
  'decisionsAsync.pullRequestAtHead': cross(REPOS, SHAS),
  'decisionsAsync.decidedAtHead': cross(REPOS, SHAS).flatMap(([r, s]) => [
    [r, s, 7],
    [r, s, 8],
  ]),
  'decisionsAsync.recordedFiles': cross(REPOS, SHAS).map(([r, s]) => [r, 7, s]),
  'decisionsAsync.newestDecisionsWaiting': [[]],
  'decisionsAsync.recordedAgentDecisions': cross(TIMES, NUMBERS).map(([since, last]) => [
    { since, until: '2026-11-27T10:06:00.000Z', last },
  ]),
  'decisionsAsync.decisionsSince': TIMES.map((t) => [t]),
  'decisionsAsync.decisionPayloadsSince': TIMES.map((t) => [t]),
  'decisionsAsync.allowedPullRequestsSince': TIMES.map((t) => [t]),
  'decisionsAsync.approversSince': TIMES.map((t) => [t]),
  'decisionsAsync.councilMembershipBetween': cross(NUMBERS, NUMBERS),
  'decisionsAsync.otherDecisionsAtHead': cross(REPOS, SHAS).map(([r, s]) => [r, s, 7]),
  'deploymentsAsync.waitingDeployments': AGENTS.map((a) => [a]),
  'deploymentsAsync.latestDeploymentDecision': cross(REPOS, NUMBERS).flatMap(([repository, runId]) => [
    [{ repository, runId, environment: 'production' }],
    [{ repository, runId, environment: 'production' }, 40],
    [{ repository, runId, environment: "prod'?" }],
  ]),
  'deploymentsAsync.deploymentVotes': cross(KEYS, NUMBERS),
  'deploymentsAsync.waitingDeploymentRequests': [[]],
  'fleetViewsAsync.agents': TIMES.map((t) => [t]),
  'fleetViewsAsync.waitingForApproval': [[]],
  'fleetViewsAsync.openPullRequests': AGENTS.map((a) => [a]),
  'fleetViewsAsync.latestCheckpoint': [[]],
  'fleetViewsAsync.recentPromotions': [[]],
  'fleetViewsAsync.budgetCharges': AGENTS.map((a) => [a]),
  'fleetViewsAsync.decisionsOf': AGENTS.map((a) => [a]),
  'fleetViewsAsync.latestForAgent': cross(AGENTS, [1, 100]),
  'fleetViewsAsync.recentActions': cross(AGENTS, [1, 3, 50]),
  'locksAsync.lockHistory': [[]],
  'outcomesAsync.lastBadOutcomeAt': AGENTS.map((a) => [a]),
  'outcomesAsync.badOutcomesSince': cross(AGENTS, TIMES),
  'outcomesAsync.badOutcomeCounted': cross(REPOS, NUMBERS).map(([r, n]) => [r, n, 'reverted']),
  'outcomesAsync.mergedPullRequest': REPOS.flatMap((r) => [
    ...NUMBERS.map((number) => [r, { number }]),
    ...SHAS.map((sha) => [r, { sha }]),
  ]),
  'promotionsAsync.promotionEntriesOf': AGENTS.map((a) => [a]),
  'promotionsAsync.promotionHistory': cross(AGENTS, ['p1', 'p2', 'P1', '%']),
  'promotionsAsync.pendingPromotionIds': AGENTS.map((a) => [a]),
  'promotionsAsync.requestedPromotionIds': [[], ...AGENTS.map((a) => [a])],
  'revocationsAsync.openPullRequestsOf': AGENTS.map((a) => [a]),
  'revocationsAsync.revocationRecordsOf': AGENTS.map((a) => [a]),
  'revocationsAsync.statusChangeBefore': cross(AGENTS, NUMBERS),
  'revocationsAsync.unconfirmedRevocations': [[]],
  'revocationsAsync.vaultAccessorsOf': AGENTS.map((a) => [a]),
  'revocationsAsync.statusChangeAfter': cross(AGENTS, NUMBERS),
  'revocationsAsync.latestRevokingChanges': [[]],
  'violationsAsync.budgetUsed': cross(AGENTS, TIMES),
  'violationsAsync.violationRecorded': AGENTS.map((a) => [a, 'diff_size_exceeded', "pr:o'brien?"]),
  'violationsAsync.revokedActivitySinceStatusChange': AGENTS.map((a) => [a]),
  'violationsAsync.suspendedForExhaustedBudget': [[]],
  'violationsAsync.seriousViolationCount': cross(AGENTS, TIMES),
  'violationsAsync.violationsSince': TIMES.map((t) => [t]),
  'watchAsync.openFindingKeys': [[]],
  'watchAsync.waitingSlackApprovals': [[]],
};

let server: PrivatePostgres;

/**
 * A database that sorts and folds case as people's languages do (ICU, en-US), as managed servers
 * are often set up: the queries must still order and fold as SQLite does (code points, A-Z only).
 */
async function icuDatabase(on: PrivatePostgres): Promise<string> {
  const url = await on.createDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      "CREATE DATABASE icu_en TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
    );
  } finally {
    await client.end();
  }
  return url.replace(/\/[^/]+$/, '/icu_en');
}
let sqlite: AsyncLedger;
let postgres: AsyncLedger;

beforeAll(async () => {
  server = await PrivatePostgres.start();
  let at = Date.parse('2026-11-27T10:00:00.000Z');
  const now = () => new Date(at);
  sqlite = new SqliteAsyncLedger(openLedger(join(tempDir(), 'ledger.db'), {}, now), now);
  postgres = await openPostgresLedger(await icuDatabase(server), now);
  // The same history on each, minute by minute: equal times, equal hashes.
  const start = at;
  await seedQueries(sqlite, () => (at += 60_000));
  at = start;
  await seedQueries(postgres, () => (at += 60_000));
}, 60_000);

afterAll(async () => {
  await sqlite?.close();
  await postgres?.close();
  await server?.stop();
});

/**
 * PostgreSQL's text cannot hold NUL: a NUL inside a JSON field read in SQL (a PR title) comes back
 * there as U+FFFD. The one difference allowed; the payloads parsed whole keep it on both.
 */
const nulRead = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value ?? null), (_key, v: unknown) =>
    typeof v === 'string' ? v.replaceAll('\u0000', '\ufffd') : v,
  );

/** The answer on both engines, which must be the same. */
async function onBoth(name: string, args: readonly unknown[]): Promise<unknown> {
  const read = query(name);
  const [onSqlite, onPostgres] = await Promise.all([
    read(sqlite.reader, ...(args as never[])),
    read(postgres.reader, ...(args as never[])),
  ]);
  expect(nulRead(onPostgres), `${name}(${JSON.stringify(args).slice(0, 200)})`).toEqual(nulRead(onSqlite));
  return onSqlite;
}

describe('the queries on SQLite and on PostgreSQL', () => {
  it('refuses, alike on both, a number that is not a safe whole number and text holding NUL', async () => {
    const refusals: [string, unknown[]][] = [
      ['decisionsAsync.latestDecision', [REPO.web, 1.5]],
      ['decisionsAsync.latestDecision', [REPO.web, 1e20]],
      ['decisionsAsync.latestDecision', [REPO.web, Number.NaN]],
      ['checkRunButtonsAsync.clickOfDelivery', [-(2 ** 60)]],
      ['agentsAsync.agentStatus', ['docs-bot\u0000']],
    ];
    for (const [name, args] of refusals) {
      const errors = await Promise.all(
        [sqlite, postgres].map((l) =>
          query(name)(l.reader, ...(args as never[])).then(
            () => null,
            (e: Error) => e.message,
          ),
        ),
      );
      expect(errors[0]).toMatch(/must be whole|holds a NUL/);
      expect(errors[1]).toBe(errors[0]);
    }
  });

  it('has a case for every query each module exports', () => {
    const exported = Object.entries(MODULES).flatMap(([module, reads]) =>
      Object.keys(reads).map((fn) => `${module}.${fn}`),
    );
    expect(exported.filter((name) => !(name in CASES) && !WRITES.includes(name))).toEqual([]);
    expect(Object.keys(CASES).filter((name) => !exported.includes(name))).toEqual([]);
  });

  it.each(Object.keys(CASES))('%s answers the same on both, for hostile inputs too', async (name) => {
    for (const args of CASES[name]!) await onBoth(name, args);
  });

  it('gives the kill switch the deployments still waiting, and expiry the requests people vote on', async () => {
    const waiting = (await onBoth('deploymentsAsync.waitingDeployments', ['docs-bot'])) as {
      runId: number;
    }[];
    expect(waiting.map((d) => d.runId).sort()).toEqual([7, 8]);
    // test-bot's deployment waited, then was answered: nothing of it waits now.
    expect(await onBoth('deploymentsAsync.waitingDeployments', ['test-bot'])).toEqual([]);
    const requests = (await onBoth('deploymentsAsync.waitingDeploymentRequests', [])) as {
      payload: { runId: number };
    }[];
    expect(requests.map((r) => r.payload.runId)).toEqual([7]);
    expect(
      await onBoth('deploymentsAsync.latestDeploymentDecision', [
        { repository: REPO.web, runId: 3, environment: 'production' },
      ]),
    ).toMatchObject({ payload: { state: 'rejected' } });
    expect(await onBoth('deploymentsAsync.deploymentVotes', ["k'1?", 3])).toMatchObject([
      { payload: { approver: 'alice', verdict: 'approve' } },
    ]);
  });

  it('a request the ledger resolved whose row still says pending (a crash between the commit and the row) waits nowhere', async () => {
    // "k'1?" was approved by alice in the ledger; its slack_approvals row was never updated.
    const keys = (rows: unknown) => (rows as { context: { key: string } }[]).map((r) => r.context.key);
    expect(keys(await onBoth('approvalsAsync.pending', []))).toEqual(['K0']);
    expect((await onBoth('approvalsAsync.pendingOfAgent', ['docs-bot'])) as { key: string }[]).toEqual([
      { expiresAt: '2026-11-27T10:00:01Z+1h', key: 'K0' },
    ]);
    expect(keys(await onBoth('approvalsAsync.pendingOnPullRequest', [REPO.web, 7]))).toEqual(['K0']);
    expect(await onBoth('approvalsAsync.state', ["k'1?"])).toBe('approved');
    expect(await onBoth('approvalsAsync.request', ["k'1?"])).toMatchObject({ state: 'approved' });
    expect(await onBoth('approvalsAsync.state', ['k2'])).toBe('expired');
    expect(
      ((await onBoth('watchAsync.waitingSlackApprovals', [])) as { key: string }[]).map((w) => w.key),
    ).toEqual(['K0']);
  });

  it('shows a user the newest decision after a push, the files from before it, and repositories as GitHub names them', async () => {
    expect(await onBoth('decisionsAsync.latestDecision', [REPO.web, 7])).toMatchObject({
      headSha: SHA.b,
      outcome: 'allow',
      summary: 'after the push',
      attribution: 'authenticated',
    });
    expect(await onBoth('decisionsAsync.recordedFiles', [REPO.web, 7, SHA.b])).toEqual([
      expect.objectContaining({ path: "docs/it's?.md" }),
    ]);
    // Exact names match exactly; the names typed by people match in any ASCII case, as GitHub's do.
    expect(await onBoth('decisionsAsync.latestDecision', ['ACME/WEB', 7])).toBeNull();
    expect(await onBoth('decisionViewsAsync.canonicalRepository', ['ACME/WEB', 7])).toBe(REPO.web);
    expect(await onBoth('decisionViewsAsync.canonicalRepository', [REPO.webUpper, 7])).toBe(REPO.webUpper);
    expect(await onBoth('decisionViewsAsync.canonicalRepository', [REPO.unicodeUpper, 3])).toBeNull();
    expect(await onBoth('decisionViewsAsync.mergeGroupAt', [REPO.web, SHA.g])).toMatchObject({
      conclusion: 'success',
    });
    // A title holding NUL does not take the list down on PostgreSQL; it shows U+FFFD there.
    expect(await onBoth('decisionViewsAsync.recentDecisions', [])).toContainEqual(
      expect.objectContaining({
        repository: REPO.web,
        number: 8,
        title: 'nul \u0000 and ünïcode, not \\u0000',
      }),
    );
    expect(await decisionViewsAsync.recentDecisions(postgres.reader)).toContainEqual(
      expect.objectContaining({ number: 8, title: 'nul \ufffd and ünïcode, not \\u0000' }),
    );
    expect(await onBoth('checkRunsAsync.checkRunId', [REPO.quoted, SHA.c, 'Agent Governance'])).toBe(2 ** 40);
    expect(await onBoth('checkRunButtonsAsync.lastAskedApprovers', [REPO.web, 7, SHA.b])).toMatchObject({
      sender: "o'hara",
    });
    expect(await onBoth('violationsAsync.budgetUsed', ['test-bot', ''])).toBe(2.5);
    expect(await onBoth('approvalsAsync.resolution', ['docs-bot', "k'1?"])).toBe('approved');
    // Newest first; among them, the two approvals resolved (the later by alice, the earlier on expiry).
    const actions = (await onBoth('fleetViewsAsync.recentActions', ['docs-bot', 50])) as {
      seq: number;
      type: string;
      actor: string;
    }[];
    expect(actions.map((a) => a.seq)).toEqual(actions.map((a) => a.seq).toSorted((x, y) => y - x));
    expect(actions.filter((a) => a.type === 'approval.resolved').map((a) => a.actor)).toEqual([
      'alice',
      'expiry',
    ]);
    expect(await onBoth('approvalsAsync.pending', [])).toEqual([
      { context: { expiresAt: '2026-11-27T10:00:01Z+1h', key: 'K0' }, installationId: 2 ** 33 },
    ]);
    expect(
      await onBoth('decisionsAsync.recordedAgentDecisions', [{ since: '', until: '9', last: -1 }]),
    ).toHaveLength(7);
  });
});
