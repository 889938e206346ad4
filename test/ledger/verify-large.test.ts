import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { CHAIN_CHUNK } from '../../src/ledger/chain-check-thread.js';
import { dbOf, Ledger } from '../../src/ledger/ledger.js';
import { openLedgerDb } from '../../src/ledger/open-ledger-db.js';
import { agov, tempDir } from '../helpers/agov.js';
import { shell } from './attacker.js';

/**
 * A ledger large enough for verify to check the hash chain on a second thread
 * (CHAIN_THREAD_MIN_ENTRIES) while it replays the projections: the CLI runs the built worker.
 */
const ENTRIES = 25_000;
let template: string;

beforeAll(() => {
  template = join(tempDir(), 'dbOf(ledger)');
  const ledger = new Ledger(openLedgerDb(template));
  for (let a = 0; a < 5; a++) {
    ledger.append({
      type: 'agent.registered',
      agentId: `agent-${a}`,
      actor: 'test',
      payload: {
        name: `agent-${a}`,
        owner: null,
        tier: 'T1',
        identities: { githubLogins: [], trailers: [] },
        tokenHash: null,
      },
    });
  }
  // The last entry has no agent (it writes no row of agent_actions).
  for (let i = 5; i < ENTRIES - 1; i += 1000) {
    ledger.appendAll(
      Array.from({ length: Math.min(1000, ENTRIES - 1 - i) }, (_, j) => ({
        type: 'integration.event' as const,
        agentId: `agent-${(i + j) % 5}`,
        actor: `agent-${(i + j) % 5}`,
        payload: { event: 'heartbeat' as const, data: { run: i + j } },
      })),
    );
  }
  ledger.append({ type: 'finding.resolved', agentId: null, actor: 'test', payload: { key: 'last' } });
  dbOf(ledger).pragma('wal_checkpoint(TRUNCATE)');
  ledger.close();
});

function copy(): string {
  const path = join(tempDir(), 'dbOf(ledger)');
  shell(template, `VACUUM INTO '${path}';`);
  return path;
}

it('verifies a large untouched ledger', () => {
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: copy() });
  expect(r.stdout).toMatch(new RegExp(`^ok: ${ENTRIES} entries checked, chain intact`, 'm'));
  expect(r.status).toBe(0);
});

it('names an entry edited deep in a large ledger', () => {
  const ledger = copy();
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, '"run":17000', '"run":17001') WHERE seq = 17001;`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad sequence: 17001$/m);
  expect(r.stdout).toMatch(/entry 17001 was changed after it was written/);
  expect(r.status).toBe(1);
});

it('names an entry deleted deep in a large ledger', () => {
  const ledger = copy();
  shell(ledger, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq = 20000;');
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad sequence: 20000$/m);
  expect(r.status).toBe(1);
});

it('names an action row deleted from a large ledger’s projections', () => {
  const ledger = copy();
  shell(ledger, "DELETE FROM agent_actions WHERE agent_id = 'agent-2' AND seq = 22003;");
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad table: agent_actions$/m);
  expect(r.stdout).toMatch(/^first bad key: agent_id=agent-2, seq=22003$/m);
  expect(r.status).toBe(1);
});

/*
 * In a ledger this large the chain's half of the agent_actions comparison runs on a chain-check
 * worker, on its own connection; the stored rows are counted on the verifying one.
 */
it('names an action row edited in a large ledger’s projections', () => {
  const ledger = copy();
  shell(
    ledger,
    "UPDATE agent_actions SET ts = '2001-01-01T00:00:00.000Z' WHERE agent_id = 'agent-3' AND seq = 21004;",
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad table: agent_actions$/m);
  expect(r.stdout).toMatch(/^first bad key: agent_id=agent-3, seq=21004$/m);
  expect(r.stdout).toMatch(/differs from the chain: ts is "2001-01-01T00:00:00.000Z"/);
  expect(r.status).toBe(1);
});

it('names an action row replaced by a copy of another in a large ledger (the table rebuilt without its key)', () => {
  const ledger = copy();
  shell(
    ledger,
    `CREATE TABLE a2 AS SELECT * FROM agent_actions WHERE NOT (agent_id = 'agent-1' AND seq = 24002);
     INSERT INTO a2 SELECT * FROM agent_actions WHERE agent_id = 'agent-4' AND seq = 10;
     DROP TABLE agent_actions;
     ALTER TABLE a2 RENAME TO agent_actions;`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad table: agent_actions$/m);
  expect(r.stdout).toMatch(/^first bad key: agent_id=agent-1, seq=24002$/m);
  expect(r.status).toBe(1);
});

it('names an action row added for the entry without an agent in a large ledger (as many rows as entries)', () => {
  const ledger = copy();
  shell(
    ledger,
    `INSERT INTO agent_actions VALUES ('agent-0', ${ENTRIES}, 'finding.resolved', '2001-01-01T00:00:00.000Z', 'test');`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad table: agent_actions$/m);
  expect(r.stdout).toMatch(new RegExp(`^first bad key: agent_id=agent-0, seq=${ENTRIES}$`, 'm'));
  expect(r.status).toBe(1);
});

it('verifies on a read-only connection too (the chaos run reads the ledger so)', async () => {
  const { openLedgerDb: open } = await import('../../src/ledger/open-ledger-db.js');
  const { verifyLedger } = await import('../../src/ledger/verify.js');
  const db = open(copy(), { mustExist: true, readonly: true });
  try {
    expect(verifyLedger(db)).toMatchObject({ ok: true, checked: ENTRIES });
    // The replay leaves nothing behind on the connection.
    expect(db.prepare("SELECT name FROM temp.sqlite_master WHERE type = 'table'").all()).toEqual([]);
  } finally {
    db.close();
  }
});

/**
 * The chain is checked in chunks, which the threads take in turn: the last entry of a chunk is
 * proved by its own chunk, and the next chunk trusts its stored hash. Tampering right at a
 * boundary is still named.
 */
const boundary = 2 * CHAIN_CHUNK;

it('names the last entry of a chain range whose hash was rewritten and relinked', () => {
  const ledger = copy();
  const forged = 'f'.repeat(64);
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_no_update;
     UPDATE ledger_entries SET hash = '${forged}' WHERE seq = ${boundary};
     UPDATE ledger_entries SET prev_hash = '${forged}' WHERE seq = ${boundary + 1};`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(new RegExp(`^first bad sequence: ${boundary}$`, 'm'));
  expect(r.stdout).toMatch(new RegExp(`entry ${boundary} was changed after it was written`));
  expect(r.status).toBe(1);
});

it('names the last entry of a chain range when it was deleted', () => {
  const ledger = copy();
  shell(ledger, `DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq = ${boundary};`);
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(new RegExp(`^first bad sequence: ${boundary}$`, 'm'));
  expect(r.status).toBe(1);
});

it('names the first entry of a chain range whose link was changed', () => {
  const ledger = copy();
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_no_update;
     UPDATE ledger_entries SET prev_hash = '${'0'.repeat(64)}' WHERE seq = ${boundary + 1};`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(new RegExp(`^first bad sequence: ${boundary + 1}$`, 'm'));
  expect(r.status).toBe(1);
});

it('names an entry whose stored hash was given a line break (entries cross as lines of one text)', () => {
  const ledger = copy();
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_no_update;
     UPDATE ledger_entries SET hash = substr(hash, 1, 30) || char(10) || substr(hash, 32) WHERE seq = 9000;`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad sequence: 9000$/m);
  expect(r.stdout).toMatch(/entry 9000 was changed after it was written/);
  expect(r.status).toBe(1);
});

it('names the first missing entry of a large ledger with rows far past its head, in time linear in its rows', () => {
  // Was a walk of one window per 4,096 sequence numbers up to 4e12 (hours), and a crash at 2^62.
  const ledger = copy();
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_chained;
     INSERT INTO ledger_entries SELECT 4000000000000, ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries WHERE seq = 30;
     INSERT INTO ledger_entries SELECT 4611686018427387904, ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries WHERE seq = 31;
     DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = CAST(payload AS BLOB) WHERE seq = 21000;`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^first bad sequence: 21000$/m);
  expect(r.stdout).toMatch(/entry 21000 holds a BLOB where the chain stores text/);
  expect(r.stdout).toMatch(/highest stored sequence number is 4611686018427387904 but 25002 rows are stored/);
  expect(r.status).toBe(1);
});

it('refuses a covering index that disagrees with a large ledger', () => {
  const ledger = copy();
  const columns = 'seq, ts, type, agent_id, actor, payload, prev_hash, hash';
  shell(ledger, `CREATE INDEX evil ON ledger_entries (${columns});`);
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad schema object: evil$/m);
  expect(r.status).toBe(1);
});

it('names the type index when it hides an entry of a large ledger (checked on the worker)', () => {
  const ledger = copy();
  shell(
    ledger,
    `CREATE INDEX hiding ON ledger_entries (type, agent_id) WHERE seq <> 17001;
     PRAGMA writable_schema = ON;
     UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'hiding')
       WHERE name = 'ledger_entries_type_agent';
     DELETE FROM sqlite_master WHERE name = 'hiding';`,
  );
  const r = agov(['ledger', 'verify'], { LEDGER_PATH: ledger });
  expect(r.stdout).toMatch(/^first bad schema object: ledger_entries_type_agent$/m);
  expect(r.status).toBe(1);
});
