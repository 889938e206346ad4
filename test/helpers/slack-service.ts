import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from './agov.js';
import { API, agentPullRequest, file, githubApi, PRIVATE_KEY, WEBHOOK_SECRET } from './github.js';
import { REPO } from './github-reads.js';
import { SLACK_SECRET } from './slack.js';

/**
 * The service with GitHub and Slack configured, on the organisation config given; in `dir` (its
 * ledger is `dir/ledger.db`) when given, so a test can start it again on the same ledger.
 */
export async function startWith(
  org: string,
  options: { dir?: string; env?: Record<string, string> } = {},
): Promise<RunningService> {
  const dir = options.dir ?? tempDir();
  writeFileSync(join(dir, 'org.yml'), org);
  return startService(
    readEnv({
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: join(dir, 'org.yml'),
      PORT: '0',
      HOST: '127.0.0.1',
      APP_ID: '123',
      PRIVATE_KEY,
      WEBHOOK_SECRET,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      HEALTH_PROBE_INTERVAL_MS: '600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
      ...options.env,
    }),
    createLogger(process.env.DEBUG_LOG ? 'warn' : 'silent'),
    {
      github: { reconcileIntervalMs: 3_600_000, retry: { initialMs: 20, maxMs: 100 } },
      slackRetry: { initialMs: 20, maxMs: 100 },
    },
  );
}

/**
 * GitHub answering every read with `policy` as the repository's policy, recording every check-run
 * write (`checks`) and every call made (`calls`, as `METHOD path`; the installation token apart).
 */
export function github(
  policy: string,
  files: unknown[] = [file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')],
  sha = 'a'.repeat(40),
) {
  githubApi();
  const checks: any[] = [];
  const calls: string[] = [];
  const pr = agentPullRequest('opened', { sha, login: 'builder-bot[bot]' });
  const pulls = new Map<number, unknown>([[2, pr.pull_request]]);
  let current = policy;
  const reads: Array<[RegExp, unknown]> = [
    [
      /\/contents\//,
      () => ({ type: 'file', encoding: 'base64', content: Buffer.from(current).toString('base64') }),
    ],
    [/\/pulls\/\d+\/commits/, [{ sha: 'c', commit: { message: 'bump' } }]],
    [/\/pulls\/\d+\/files/, files],
    [/\/pulls\/\d+(\?|$)/, (uri: string) => pulls.get(Number(/\/pulls\/(\d+)/.exec(uri)![1]))],
    [/\/repos\/Codertocat\/Hello-World(\?|$)/, pr.repository],
  ];
  nock(API)
    .persist()
    .get(/^\/repos\//)
    .reply((uri) => {
      calls.push(`GET ${uri}`);
      const hit = reads.find(([pattern]) => pattern.test(uri));
      const body = typeof hit?.[1] === 'function' ? hit[1](uri) : hit?.[1];
      return body ? [200, body] : [404, { message: `no stand-in for ${uri}` }];
    })
    .post(`${REPO}/check-runs`)
    .reply(201, (u, b: any) => {
      calls.push(`POST ${u}`);
      checks.push(b);
      return { id: 700 };
    })
    .patch(`${REPO}/check-runs/700`)
    .reply(200, (u, b: any) => {
      calls.push(`PATCH ${u}`);
      checks.push(b);
      return { id: 700 };
    });
  /** Changes the policy GitHub answers from now on (as a push to the default branch would). */
  const setPolicy = (text: string) => {
    current = text;
  };
  return { pr, checks, pulls, calls, setPolicy };
}

/** The Slack Web API, recording every call by method. */
export function slackApi() {
  const calls: { method: string; body: any }[] = [];
  nock('https://slack.com')
    .persist()
    .post(/\/api\/.+/)
    .reply(200, (uri, raw: any) => {
      const method = uri.replace('/api/', '');
      // The Web API client posts form-encoded fields (nested ones as JSON), as Slack documents.
      const body = typeof raw === 'string' ? Object.fromEntries(new URLSearchParams(raw)) : raw;
      calls.push({ method, body });
      return method === 'chat.postMessage'
        ? { ok: true, channel: body.channel, ts: '1700000000.000100' }
        : { ok: true };
    });
  return calls;
}
