import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { agov, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

function write(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

describe('agov policy validate', () => {
  it('accepts a valid policy and describes what it resolves to', () => {
    const r = agov(['policy', 'validate', write('p.yml', 'extends: infra-protected\n')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok: .*p\.yml is valid$/m);
    expect(r.stdout).toContain('gates: default (1 approval(s)), protected (council)');
  });

  it('names file, line and column of each problem and exits 1', () => {
    const path = write('p.yml', 'rules:\n  diff_size:\n    max_files: -3\n');
    const r = agov(['policy', 'validate', path]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe(
      `${path}:3:16: rules.diff_size.max_files: Too small: expected number to be >0`,
    );
  });

  it('refuses a secret pattern the linear-time engine cannot run, naming its line, and exits 1', () => {
    const path = write(
      'p.yml',
      [
        'extends: default',
        'rules:',
        '  secrets:',
        '    patterns:',
        '      - "internal-([0-9a-f]+)+-key"',
        '      - "(token)=\\\\1"',
        "      - 'key(?=[0-9])'",
        '',
      ].join('\n'),
    );
    const r = agov(['policy', 'validate', path]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      `${path}:6:9: rules.secrets.patterns[1]: not a pattern the linear-time engine (RE2) accepts: invalid escape sequence: \`\\1\``,
      `${path}:7:9: rules.secrets.patterns[2]: not a pattern the linear-time engine (RE2) accepts: invalid or unsupported Perl syntax: \`(?=\``,
    ]);
  });

  it('accepts the catastrophic-for-backtracking pattern: RE2 runs it in linear time', () => {
    const path = write('p.yml', 'rules:\n  secrets:\n    patterns: ["internal-([0-9a-f]+)+-key"]\n');
    const r = agov(['policy', 'validate', path]);
    expect(r.status).toBe(0);
  });

  it('a missing file is a usage error', () => {
    const r = agov(['policy', 'validate', '/nonexistent.yml']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('agov: cannot read the policy file /nonexistent.yml: ENOENT');
  });
});

describe('agov policy check', () => {
  it('evaluates a list of files for a tier and prints the decision table', () => {
    const r = agov(['policy', 'check', '--tier', 'T1', '--files', 'docs/a.md,src/app.ts']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^DENY: Denied: 1 file\(s\) outside what T1 may change: `src\/app.ts`/);
    expect(r.stdout).toMatch(/execute\s+tier_paths\s+fire \(deny\)/);
    expect(r.stdout).toContain('src/app.ts:1: Path not allowed for this tier');
  });

  it('reads a unified diff and finds a secret on its line', () => {
    const diff = write(
      'change.diff',
      [
        'diff --git a/src/config.ts b/src/config.ts',
        'index 1111111..2222222 100644',
        '--- a/src/config.ts',
        '+++ b/src/config.ts',
        '@@ -3,2 +3,3 @@ export const config = {',
        '   region: "eu",',
        '+  token: "xoxb-1234567890-abcdefghij",',
        ' };',
        '',
      ].join('\n'),
    );
    const r = agov(['policy', 'check', '--tier', 'T2', '--diff', diff]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('src/config.ts:4: Secret in added line: looks like a Slack token');
  });

  it('holds a binary file of a diff for a person: it cannot be scanned', () => {
    const diff = write(
      'binary.diff',
      [
        'diff --git a/certs/key.p12 b/certs/key.p12',
        'new file mode 100644',
        'index 0000000..3333333',
        'Binary files /dev/null and b/certs/key.p12 differ',
        '',
      ].join('\n'),
    );
    const r = agov(['policy', 'check', '--tier', 'T3', '--diff', diff]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^REQUIRE_APPROVAL: /);
    expect(r.stdout).toContain('could not scan `certs/key.p12`');
    expect(r.stdout).toContain('certs/key.p12:1: Not scanned for secrets: no text diff of this file (binary');
  });

  it('allows what the policy allows', () => {
    const r = agov(['policy', 'check', '--tier', 'T2', '--files', 'src/app.ts']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ALLOW: Allowed: every rule passed/);
  });
});

describe("agov policy check with the organisation's enforced rules", () => {
  const ORG = [
    'rules:',
    '  protected_paths: { enforced: true, paths: ["secure/**"], action: require_approval, gate: security }',
    'gates:',
    '  security: { enforced: true, approvals: 2 }',
    '',
  ].join('\n');

  it('shows for each rule which file it came from', () => {
    const org = write('org.yml', ORG);
    const repo = write('repo.yml', 'extends: strict\nrules:\n  diff_size: { max_files: 10 }\n');
    const r = agov([
      'policy',
      'check',
      '--policy',
      repo,
      '--org',
      org,
      '--tier',
      'T2',
      '--files',
      'secure/a.ts',
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^REQUIRE_APPROVAL: /);
    expect(r.stdout).toMatch(
      new RegExp(`gate\\s+protected_paths\\s+fire \\(require_approval\\).*${org} \\(enforced\\)`),
    );
    expect(r.stdout).toMatch(new RegExp(`gate\\s+diff_size\\s+pass.*${repo}`));
    expect(r.stdout).toMatch(/execute\s+tier_paths\s+pass.*built-in template strict/);
    expect(r.stdout).toMatch(/plan\s+agent_status\s+pass.*built-in template default/);
  });

  it('refuses a repository file that loosens an enforced rule, naming the rule and both values', () => {
    const org = write('org.yml', ORG);
    const repo = write('repo.yml', 'gates:\n  security: { approvals: 1 }\n');
    const r = agov(['policy', 'validate', repo, '--org', org]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe(`${repo}: gates.security: approvals 1 < 2, looser than ${org} enforces`);
  });
});

describe('agov policy backtest', () => {
  it('replays a candidate policy over recorded agent PRs and lists the verdicts that would change', async () => {
    const rt = await testRuntime();
    await rt.governance.registerAgent({ id: 'builder-bot', tier: 'T2' }, 'alice');
    const decision = (
      number: number,
      paths: string[],
      rules: { rule: string; status: string; summary: string }[],
      outcome: 'allow' | 'require_approval',
    ) =>
      sqliteOf(rt).append({
        type: 'decision.recorded',
        agentId: 'builder-bot',
        actor: 'github',
        payload: {
          repository: 'acme/web',
          number,
          headSha: String(number).repeat(40).slice(0, 40),
          outcome,
          summary: '',
          tier: 'T2',
          policyVersion: 'v1',
          diffHash: 'd',
          trigger: 'pull_request.opened',
          rules,
          author: 'builder-bot[bot]',
          files: paths.map((path) => ({
            path,
            previousPath: null,
            status: 'modified',
            additions: 5,
            deletions: 1,
          })),
        },
      });
    decision(1, ['src/app.ts'], [], 'allow');
    decision(2, ['infra/main.tf'], [], 'allow');
    decision(
      3,
      ['.github/workflows/ci.yml'],
      [{ rule: 'protected_paths', status: 'fire', summary: 'x' }],
      'require_approval',
    );
    await rt.close();

    const r = agov(['policy', 'backtest', write('candidate.yml', 'extends: infra-protected\n')], {
      LEDGER_PATH: rt.env.LEDGER_PATH,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /acme\/web#2@2222222\s+builder-bot \(T2\)\s+allow\s+require_approval\s+protected_paths\s+-/,
    );
    expect(r.stdout).not.toMatch(/acme\/web#1@/);
    expect(r.stdout).toContain('1 of 3 decisions would change under');
  });
});

describe('policy validate refuses what would silently fall back', () => {
  it('a rule naming an undefined gate, and a deadline beyond a year', () => {
    const dir = tempDir();
    const typo = join(dir, 'typo.yml');
    writeFileSync(typo, 'rules:\n  protected_paths: { paths: ["infra/**"], gate: protcted }\n');
    const r = agov(['policy', 'validate', typo]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `${typo}: rules.protected_paths.gate: no gate "protcted" is defined under gates:`,
    );
    const far = join(dir, 'far.yml');
    writeFileSync(far, 'gates:\n  default: { expiry_hours: 1e15 }\n');
    const f = agov(['policy', 'validate', far]);
    expect(f.status).toBe(1);
    expect(f.stdout).toMatch(/far\.yml:2:\d+: gates\.default\.expiry_hours/);
  });
});
