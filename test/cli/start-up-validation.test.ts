import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/read-env.js';
import { agov, tempDir } from '../helpers/agov.js';

describe('start-up refuses what would fail on every call later', () => {
  it('GHE_HOST with a scheme, or a path, is refused with one line saying what to set', () => {
    for (const host of ['http://ghe.example.com', 'https://ghe.example.com', 'ghe.example.com/api/v3']) {
      expect(() => readEnv({ GHE_HOST: host })).toThrow(
        /^environment variable GHE_HOST: a host name only \(such as ghe\.example\.com or ghe\.example\.com:8443\)/,
      );
    }
    expect(readEnv({ GHE_HOST: 'ghe.example.com:8443' }).GHE_HOST).toBe('ghe.example.com:8443');
  });

  it('GHE_PROTOCOL other than http or https is refused', () => {
    expect(() => readEnv({ GHE_PROTOCOL: 'ftp' })).toThrow(
      /^environment variable GHE_PROTOCOL: must be http or https/,
    );
    expect(readEnv({ GHE_PROTOCOL: 'http' }).GHE_PROTOCOL).toBe('http');
  });

  it('`agov serve` stops at once with one clear line, before opening anything', () => {
    const dir = tempDir();
    for (const [name, value] of [
      ['GHE_HOST', 'http://ghe.example.com'],
      ['GHE_PROTOCOL', 'ftp'],
    ] as const) {
      const r = agov(['serve'], { LEDGER_PATH: join(dir, 'ledger.db'), PORT: '0', [name]: value });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^agov: environment variable ${name}: `));
    }
  });
});

it('an invalid organisation config shows every problem, each with its file, line and column', () => {
  const dir = tempDir();
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(
    config,
    [
      'agents:',
      '  - id: docs-bot',
      '    tier: T7',
      '  - id: Bad_Id',
      '    tier: T1',
      'approvers:',
      '  - { github: 12 }',
      'budgets:',
      '  limit: -5',
      '',
    ].join('\n'),
  );
  for (const args of [['config', 'validate', config], ['serve']]) {
    const r = agov(args, { LEDGER_PATH: join(dir, 'ledger.db'), GOVERNANCE_CONFIG: config, PORT: '0' });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('agov: invalid organisation config (4 problems):');
    const problems = lines.slice(1);
    expect(problems).toHaveLength(4);
    for (const line of problems) expect(line).toMatch(/agent-governance\.yml:\d+:\d+: \S/);
    expect(problems.map((l) => /:(\d+):\d+: /.exec(l)![1])).toEqual(['3', '4', '7', '9']);
    expect(r.stderr).not.toMatch(/more problem/);
  }
});
