import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agov, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

/** One line on stderr, naming the problem; never a stack trace. */
function expectOneClearLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^agov: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function ledgerWithOneAgent() {
  const rt = await testRuntime();
  await rt.governance.registerAgent({ id: 'docs-bot', tier: 'T1' }, 'alice');
  const path = rt.env.LEDGER_PATH;
  await rt.close();
  return path;
}

describe('bad input gets one clear message and a non-zero exit, and loses nothing', () => {
  it('a corrupt ledger file', () => {
    const path = join(tempDir(), 'ledger.db');
    writeFileSync(path, 'this is not a database, it is a shopping list\n'.repeat(100));
    const before = readFileSync(path);
    for (const args of [['ledger', 'verify'], ['agents', 'add', 'x', '--tier', 'T1'], ['serve']]) {
      const r = agov(args, { LEDGER_PATH: path, PORT: '0' });
      expect(r.status).toBe(2);
      expectOneClearLine(r.stderr, /is not a readable SQLite database/);
    }
    expect(readFileSync(path)).toEqual(before);
  });

  it('a missing ledger for a read command is not silently created', () => {
    const path = join(tempDir(), 'nothing-here.db');
    const r = agov(['ledger', 'verify'], { LEDGER_PATH: path });
    expect(r.status).toBe(2);
    expectOneClearLine(r.stderr, /no ledger at .*nothing-here\.db/);
  });

  it('an unreachable Redis', async () => {
    const path = await ledgerWithOneAgent();
    for (const args of [['serve'], ['checkpoint', 'restore']]) {
      const r = agov(args, { LEDGER_PATH: path, REDIS_URL: 'redis://127.0.0.1:1', PORT: '0' });
      expect(r.status).toBe(2);
      expectOneClearLine(r.stderr, /cannot reach the state store at redis:\/\/127\.0\.0\.1:1.*REDIS_URL/);
    }
    const verify = agov(['ledger', 'verify'], { LEDGER_PATH: path });
    expect(verify.stdout).toMatch(/ok: 1 entries checked/);
  });

  it('an invalid organisation config names the file, line and column', async () => {
    const path = await ledgerWithOneAgent();
    const config = join(tempDir(), 'agent-governance.yml');
    writeFileSync(config, ['agents:', '  - id: docs-bot', '    tier: T7', ''].join('\n'));
    const r = agov(['serve'], { LEDGER_PATH: path, GOVERNANCE_CONFIG: config, PORT: '0' });
    expect(r.status).toBe(2);
    expectOneClearLine(
      r.stderr,
      /agent-governance\.yml:3:11: agents\[0\]\.tier: must be one of "T0", "T1", "T2", "T3", "T4"/,
    );

    writeFileSync(config, 'agents: [unclosed\n');
    const yamlError = agov(['serve'], { LEDGER_PATH: path, GOVERNANCE_CONFIG: config, PORT: '0' });
    expect(yamlError.status).toBe(2);
    expectOneClearLine(yamlError.stderr, /agent-governance\.yml:\d+:\d+: not valid YAML/);

    const missing = agov(['serve'], {
      LEDGER_PATH: path,
      GOVERNANCE_CONFIG: '/nonexistent/agov.yml',
      PORT: '0',
    });
    expectOneClearLine(
      missing.stderr,
      /cannot read the organisation config \/nonexistent\/agov\.yml: ENOENT/,
    );
    expect(agov(['ledger', 'verify'], { LEDGER_PATH: path }).stdout).toMatch(/ok: 1 entries checked/);
  });

  it('bad arguments exit 2 and change nothing', async () => {
    const path = await ledgerWithOneAgent();
    const copy = join(tempDir(), 'copy.db');
    copyFileSync(path, copy);
    for (const args of [
      ['agents', 'add', 'Not A Slug', '--tier', 'T1'],
      ['agents', 'add', 'docs-bot', '--tier', 'T1'],
      ['agents', 'add', 'new-bot', '--tier', 'T9'],
      ['agents', 'add', 'new-bot', '--tier', 'T1', '--trailer', 'no email here'],
      ['agents', 'show', 'ghost'],
      ['ledger', 'export', '--after', '-3'],
    ]) {
      const r = agov(args, { LEDGER_PATH: path });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(agov(['ledger', 'verify'], { LEDGER_PATH: path }).stdout).toMatch(/ok: 1 entries checked/);
    expect(agov(['ledger', 'bogus'], { LEDGER_PATH: path }).status).toBe(2);
  });
});

describe('agov config validate', () => {
  it('warns when an approver or a council member is an agent, and --strict fails on it', () => {
    const dir = tempDir();
    const path = join(dir, 'org.yml');
    writeFileSync(
      path,
      'agents:\n  - { id: reviewer-bot, tier: T2, github_logins: ["reviewer-bot"] }\napprovers:\n  - { github: reviewer-bot }\n  - { github: alice, slack: UALICE }\npeople:\n  - { github: dave, slack: UALICE }\n',
    );
    const r = agov(['config', 'validate', path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      `warning: ${path}: approvers[0]: reviewer-bot belongs to agent reviewer-bot; an agent never approves, so it is refused everywhere`,
    );
    expect(r.stdout).toContain(
      `warning: ${path}: Slack user UALICE is given to both alice and dave; it counts as alice`,
    );
    expect(agov(['config', 'validate', path, '--strict']).status).toBe(1);
    writeFileSync(path, 'approvers:\n  - { github: alice, slak: U1 }\n');
    const bad = agov(['config', 'validate', path]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown key "slak"');
  });
});
