import { describe, expect, it } from 'vitest';
import { EMPTY_ORG_CONFIG, orgConfigSchema, tierCapabilities } from '../../src/core/org-config.js';
import { formatProblem, parseYamlWithSchema } from '../../src/core/parse-yaml.js';

const parse = (text: string) => parseYamlWithSchema(text, orgConfigSchema, 'agent-governance.yml');
const problems = (text: string) => {
  const r = parse(text);
  if (r.ok) throw new Error('expected problems');
  return r.problems.map(formatProblem);
};

describe('organisation config', () => {
  it('parses agents, approvers, council and tier overrides', () => {
    const r = parse(`
agents:
  - id: docs-bot
    owner: alice
    tier: T1
    github_logins: ["docs-bot[bot]"]
    trailers: ["Docs Bot <docs-bot@example.com>"]
approvers:
  - { github: alice, slack: U012ABCDEF, teams: [platform] }
council: { members: [alice, bob, carol], quorum: 2, veto: true }
tiers:
  T2: { max_changed_files: 80 }
consequences: { high: demote }
`);
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    expect(r.value.agents[0]).toMatchObject({ id: 'docs-bot', tier: 'T1', github_logins: ['docs-bot[bot]'] });
    expect(tierCapabilities(r.value, 'T2').maxChangedFiles).toBe(80);
    expect(tierCapabilities(r.value, 'T2').maxChangedLines).toBe(1500);
    expect(r.value.consequences.high).toBe('demote');
  });

  it('an empty file is the defaults', () => {
    expect(parse('')).toEqual({ ok: true, value: EMPTY_ORG_CONFIG });
  });

  it.each([
    [
      'agents:\n  - id: docs-bot\n    tier: T7\n',
      'agent-governance.yml:3:11: agents[0].tier: must be one of "T0", "T1", "T2", "T3", "T4"',
    ],
    [
      'agents:\n  - id: Docs_Bot\n',
      'agent-governance.yml:2:9: agents[0].id: an agent id is a lowercase slug: letters, digits and dashes',
    ],
    ['agnets: []\n', 'agent-governance.yml:1:1: unknown key "agnets"'],
    [
      'council: { members: [alice], quorum: 3 }\n',
      'agent-governance.yml:1:38: council.quorum: council quorum cannot be larger than the number of members',
    ],
    [
      'council: { quorum: 2 }\n',
      'agent-governance.yml:1:10: council.members: a council needs members, a slack_usergroup, or both',
    ],
    [
      'council: { slack_usergroup: council, quorum: 2 }\n',
      'agent-governance.yml:1:29: council.slack_usergroup: a Slack user group id looks like S012ABCDEF',
    ],
    [
      'approvers:\n  - github: alice\n    slack: alice\n',
      'agent-governance.yml:3:12: approvers[0].slack: a Slack user id looks like U012ABCDEF',
    ],
    [
      'agents: [\n',
      'agent-governance.yml:2:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ])('explains %j', (text, message) => {
    expect(problems(text)[0]).toBe(message);
  });

  it('refuses hostile YAML (alias bombs) with a message instead of hanging', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
`;
    expect(problems(bomb)).toEqual([
      'agent-governance.yml:1:1: refused: Excessive alias count indicates a resource exhaustion attack',
    ]);
  });
});
