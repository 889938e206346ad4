/**
 * What the Slack listener tests share: one organisation (an agent owned by olivia, four mapped
 * approvers, an approvals channel), a 2-approver gate on the PR Codertocat/Hello-World#2, and a
 * fresh service for every test, driven through its real endpoints.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { postWebhook } from './github.js';
import { github, slackApi, startWith } from './slack-service.js';

export const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
promotion:
  thresholds: { T3: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 } }
approvers:
  - { github: alice, slack: UALICE }
  - { github: bob, slack: UBOB }
  - { github: carol, slack: UCAROL }
  - { github: olivia, slack: UOLIVIA }
slack:
  approvals_channel: C0APPROVALS
  admins: [UADMIN]
  notify: { agent_revoked: C0ALERTS }
`;
export const POLICY = 'gates:\n  default: { approvals: 2, allow_owner: false }\n';
export const SHA = 'a'.repeat(40);
/** The approval key of the request on #2, as stored and as its buttons carry it. */
export const KEY = `Codertocat/Hello-World#2@${SHA}`;

/** The running service of the current test; `restart` replaces it with one on another config. */
export interface SlackSuite {
  service: RunningService;
  restart(org: string): Promise<void>;
}

/** Starts the service on `org` before each test of the file and stops it after; only loopback goes out. */
export function slackSuite(org = ORG): SlackSuite {
  const suite: SlackSuite = {
    service: undefined as unknown as RunningService,
    async restart(next) {
      await suite.service.stop();
      suite.service = await startWith(next);
    },
  };
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    suite.service = await startWith(org);
  });
  afterEach(async () => {
    await suite.service.stop();
    nock.cleanAll();
  });
  return suite;
}

/** The agent's PR opened under a gate that needs people: its card is posted. */
export async function openApprovalRequest(service: RunningService, policy = POLICY) {
  const gh = github(policy);
  const slack = slackApi();
  await postWebhook(service.port, 'pull_request', gh.pr);
  await service.github!.drain();
  await service.slack!.pump.runNow();
  return { gh, slack };
}

type Block = Record<string, any>;
const SHOWN: Record<string, string[]> = {
  header: ['type', 'text'],
  section: ['type', 'text', 'fields'],
  context: ['type', 'elements'],
  actions: ['type', 'block_id', 'elements'],
};

/**
 * A message's blocks as a person reads them, one line or paragraph per block, for inline
 * snapshots: a header as `# …`, a section's text then its fields joined by ` | `, a context line as
 * `> …`, buttons as `[Label (action, style): value]`. A block with anything else is shown whole, as
 * JSON, so nothing is left out. Deadlines are shown as `<time>` (they move with the clock).
 */
export function cardText(call: { body: { blocks: string } }): string {
  const blocks = JSON.parse(call.body.blocks) as Block[];
  const text = blocks.map((b) => {
    if (!SHOWN[b.type] || Object.keys(b).some((k) => !SHOWN[b.type]!.includes(k))) return JSON.stringify(b);
    if (b.type === 'header') return `# ${b.text.text}`;
    if (b.type === 'context') return `> ${b.elements.map((e: Block) => e.text).join(' ')}`;
    if (b.type === 'actions')
      return b.elements
        .map((e: Block) => `[${e.text.text} (${e.action_id}${e.style ? `, ${e.style}` : ''}): ${e.value}]`)
        .join(' ');
    const fields = b.fields
      ? `\n${b.fields.map((f: Block) => f.text.replaceAll('\n', ' ')).join(' | ')}`
      : '';
    return `${b.text.text}${fields}`;
  });
  return text
    .join('\n')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/g, '<time>');
}
