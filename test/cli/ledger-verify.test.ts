import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agov, sqlite, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

/** A ledger of 6 entries: 3 agents, each registered and its token rotated. */
async function seedLedger(
  ids = ['docs-bot', 'test-bot', 'infra-bot'],
  ledger = join(tempDir(), 'ledger.db'),
) {
  const rt = await testRuntime({ ledgerPath: ledger });
  for (const id of ids) await rt.governance.registerAgent({ id, tier: 'T1', owner: 'alice' }, 'test');
  for (const id of ids) await rt.governance.rotateToken(id, 'test');
  await rt.close();
  return { ledger, env: { LEDGER_PATH: ledger } };
}

describe('agov ledger verify', () => {
  let ledger: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    ({ ledger, env } = await seedLedger());
  });

  it('exits 0 on an intact ledger and says how many entries it checked', () => {
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ok: 6 entries checked, chain intact/);
  });

  it('the database itself refuses updates and deletes of the chain', () => {
    const update = sqlite(ledger, "UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2;");
    expect(update.status).not.toBe(0);
    expect(update.stderr).toMatch(/append-only: updates are refused/);
    const del = sqlite(ledger, 'DELETE FROM ledger_entries WHERE seq = 6;');
    expect(del.status).not.toBe(0);
    expect(del.stderr).toMatch(/append-only: deletes are refused/);
    const forged = sqlite(
      ledger,
      "INSERT INTO ledger_entries VALUES (9, 't', 'agent.registered', NULL, 'x', '{}', 'bad', 'bad');",
    );
    expect(forged.stderr).toMatch(/must extend the chain head/);
    expect(agov(['ledger', 'verify'], env).status).toBe(0);
  });

  it('names the entry whose payload had one byte changed', () => {
    sqlite(
      ledger,
      "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, 'alice', 'alicf') WHERE seq = 3;",
    );
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 3$/m);
    expect(r.stdout).toMatch(/entry 3 was changed after it was written/);
    expect(r.stdout).toMatch(/append-only triggers .* are missing/);
  });

  it('names the first entry of a deleted row', () => {
    sqlite(ledger, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq = 4;');
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 4$/m);
  });

  it('names the first of two swapped rows', () => {
    sqlite(
      ledger,
      `DROP TRIGGER ledger_entries_no_update;
       CREATE TEMP TABLE a AS SELECT * FROM ledger_entries WHERE seq = 2;
       CREATE TEMP TABLE b AS SELECT * FROM ledger_entries WHERE seq = 5;
       UPDATE ledger_entries SET ts = (SELECT ts FROM b), type = (SELECT type FROM b), agent_id = (SELECT agent_id FROM b),
         actor = (SELECT actor FROM b), payload = (SELECT payload FROM b), prev_hash = (SELECT prev_hash FROM b), hash = (SELECT hash FROM b)
         WHERE seq = 2;
       UPDATE ledger_entries SET ts = (SELECT ts FROM a), type = (SELECT type FROM a), agent_id = (SELECT agent_id FROM a),
         actor = (SELECT actor FROM a), payload = (SELECT payload FROM a), prev_hash = (SELECT prev_hash FROM a), hash = (SELECT hash FROM a)
         WHERE seq = 5;`,
    );
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 2$/m);
  });

  it('names the first missing entry when the tail is cut after a checkpoint', () => {
    expect(agov(['checkpoint', 'create'], env).status).toBe(0);
    sqlite(ledger, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq >= 5;');
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 5$/m);
    expect(r.stdout).toMatch(/the tail was cut off/);
  });

  it('with --head, catches history rewritten wholesale on the host', async () => {
    expect(agov(['checkpoint', 'create'], env).status).toBe(0);
    const head = agov(['ledger', 'head'], env);
    expect(head.status).toBe(0);
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, head.stdout);
    // The attacker replaces the whole database with a fresh, self-consistent history.
    const { ledger: forged } = await seedLedger(['docs-bot', 'evil-bot', 'infra-bot']);
    expect(agov(['ledger', 'verify'], { LEDGER_PATH: forged }).status).toBe(0);
    const r = agov(['ledger', 'verify', '--head', headFile], { LEDGER_PATH: forged });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 6$/m);
    expect(r.stdout).toMatch(/history was rewritten/);
  });

  it('refuses a head file whose content was altered', () => {
    expect(agov(['checkpoint', 'create'], env).status).toBe(0);
    const head = JSON.parse(agov(['ledger', 'head'], env).stdout);
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, JSON.stringify({ ...head, headSeq: 2 }));
    const r = agov(['ledger', 'verify', '--head', headFile], env);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^agov: the signature of .* does not match its content: it was altered$/);
  });
});
