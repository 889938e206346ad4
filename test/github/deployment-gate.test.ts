/**
 * This app as a GitHub custom deployment protection rule: a signed `deployment_protection_rule`
 * delivery in, the answer out at the exact callback path, the decision in the ledger. The payload
 * is GitHub's documented shape around the real `deployment` of @octokit/webhooks-examples (which
 * has no `deployment_protection_rule` example).
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { CircuitState } from '../../src/platform/resilience.js';
import { API, examplePayload, githubApi, postWebhook, startGithubService } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';

const ORG = `
agents:
  - { id: release-bot, tier: T4, owner: olivia, github_logins: ["release-bot[bot]"] }
  - { id: stage-bot, tier: T3, owner: olivia, github_logins: ["stage-bot[bot]"] }
approvers:
  - { github: alice }
`;

const POLICY = `
environments:
  production: { min_tier: T4, people: reject }
  staging: { min_tier: T3 }
  guarded: { min_tier: T3, gate: prod }
gates:
  prod: { approvals: 1 }
`;

const RUN_ID = 4242;
const CALLBACK = `${REPO}/actions/runs/${RUN_ID}/deployment_protection_rule`;

/** GitHub's documented `deployment_protection_rule.requested` payload, around a real deployment. */
function requested(environment: string, creator: string, patch: { sender?: string; payload?: unknown } = {}) {
  const base = examplePayload('deployment', 'created');
  const deployment = { ...base.deployment, environment, payload: patch.payload ?? {} };
  deployment.creator = { ...deployment.creator, login: creator };
  return {
    action: 'requested',
    environment,
    event: 'push',
    sha: deployment.sha,
    ref: `refs/heads/${deployment.ref}`,
    deployment_callback_url: `${API}${CALLBACK}`,
    deployment,
    pull_requests: [],
    repository: base.repository,
    installation: { id: 1 },
    sender: { ...base.sender, login: patch.sender ?? creator },
  };
}

let service: RunningService;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  service = await startGithubService({ orgConfig: ORG });
});
afterEach(async () => {
  await service?.stop();
  nock.cleanAll();
});

/** The policy on the default branch, and the one answer expected at the callback path. */
function github(policy: string | null = POLICY) {
  githubApi();
  const answers: any[] = [];
  const reads = nock(API);
  if (policy)
    reads
      .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
      .query({ ref: 'master' })
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from(policy).toString('base64') })
      // Read for every repository: what the organisation's file enforces applies everywhere.
      .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
      .optionally() // not when the repository's own file cannot be used
      .reply(404, { message: 'Not Found' });
  const callback = nock(API)
    .post(CALLBACK, (body) => answers.push(body) > 0)
    .reply(204);
  return { answers, done: () => reads.isDone() && callback.isDone() };
}

async function deliver(payload: unknown) {
  const res = await postWebhook(service.port, 'deployment_protection_rule', payload);
  expect(res.status).toBe(202);
  await service.github!.drain();
}

async function decisions() {
  return (
    await service.runtime.store.reader.all(
      "SELECT agent_id AS agentId, payload FROM ledger_entries WHERE type = 'deployment.decided' ORDER BY seq",
    )
  ).map((r: any) => ({ agentId: r.agentId, ...JSON.parse(r.payload) }));
}

function inboxRows() {
  return service.runtime.store.reader.all(
    "SELECT delivery_id, status, attempts, last_error FROM inbox WHERE event = 'deployment_protection_rule' ORDER BY seq",
  );
}

function violations() {
  return service.runtime.store.reader.all("SELECT * FROM ledger_entries WHERE type = 'violation.recorded'");
}

describe('hostile deployments are rejected through the callback', () => {
  it('a revoked agent: rejected, whatever its tier', async () => {
    await service.revocations.revoke('release-bot', 'leaked a deploy key', 'alice');
    const gh = github();
    await deliver(requested('production', 'release-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect(gh.answers).toEqual([
      {
        environment_name: 'production',
        state: 'rejected',
        comment: expect.stringContaining('release-bot is revoked'),
      },
    ]);
    expect(await decisions()).toMatchObject([
      {
        agentId: 'release-bot',
        environment: 'production',
        runId: RUN_ID,
        state: 'rejected',
        attribution: { strength: 'authenticated', via: 'deployment creator release-bot[bot]' },
      },
    ]);
  });

  it('a tier below the environment’s min_tier: rejected, saying what it needs', async () => {
    const gh = github();
    await deliver(requested('production', 'stage-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'production', state: 'rejected' });
    expect(gh.answers[0].comment).toContain('environment `production` needs T4 or higher');
    expect((await decisions())[0]).toMatchObject({ agentId: 'stage-bot', tier: 'T3', state: 'rejected' });
  });

  it('a person claiming an agent in the deployment payload gets no agent’s rights, and the agent is charged nothing', async () => {
    const gh = github();
    await deliver(requested('production', 'Codertocat', { payload: { agent: 'release-bot' } }));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'production', state: 'rejected' });
    expect(gh.answers[0].comment).toContain(
      'only a claim ties Codertocat to release-bot, and environment `production` says `people: reject`',
    );
    expect((await decisions())[0]).toMatchObject({
      agentId: 'release-bot',
      creator: 'Codertocat',
      attribution: { strength: 'claimed', author: 'Codertocat' },
      state: 'rejected',
    });
    expect(await violations()).toEqual([]);
  });

  it('a deployment payload nested thousands deep is decided like any other: only its agent claim is kept', async () => {
    // Written as text: JSON.stringify itself gives up at this depth.
    const deep = `${'{"next":'.repeat(5000)}{"leaf":true}${'}'.repeat(5000)}`;
    const send = async (payload: ReturnType<typeof requested>) => {
      const body = JSON.stringify(payload).replace('"DEEP"', deep);
      const res = await postWebhook(service.port, 'deployment_protection_rule', null, { body });
      expect(res.status).toBe(202);
      await service.github!.drain();
    };
    let gh = github();
    await send(requested('staging', 'stage-bot[bot]', { payload: 'DEEP' }));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'staging', state: 'approved' });

    gh = github(null);
    await send(requested('production', 'Codertocat', { payload: { agent: 'release-bot', more: 'DEEP' } }));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'production', state: 'rejected' });
    expect((await decisions())[1]).toMatchObject({
      agentId: 'release-bot',
      attribution: { strength: 'claimed' },
    });
    // A claim megabytes long names no agent, and is not kept either.
    gh = github(null);
    await send(requested('staging', 'Codertocat', { payload: { agent: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'staging', state: 'approved' });
    const stored = await service.runtime.store.reader.all<{ payload: string }>('SELECT payload FROM inbox');
    expect(Math.max(...stored.map((r) => r.payload.length))).toBeLessThan(4096);
  });

  it('an environment the policy does not name: an agent is rejected, a person approved', async () => {
    let gh = github();
    await deliver(requested('qa', 'release-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'qa', state: 'rejected' });
    expect(gh.answers[0].comment).toContain('environment `qa` has no section under `environments:`');

    gh = github(null); // the policy read for the first deployment is cached: no second read
    await deliver(requested('qa', 'Codertocat'));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'qa', state: 'approved' });
  });

  it('an unreadable policy: an agent is rejected (fail closed)', async () => {
    const gh = github('environments: [not, a, map]\n');
    await deliver(requested('staging', 'stage-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'staging', state: 'rejected' });
    expect(gh.answers[0].comment).toContain('the policy could not be read');
  });

  it('a callback URL naming another repository is refused at the edge (400) and never called', async () => {
    const payload = requested('staging', 'stage-bot[bot]');
    payload.deployment_callback_url = `${API}/repos/evil/elsewhere/actions/runs/1/deployment_protection_rule`;
    const res = await postWebhook(service.port, 'deployment_protection_rule', payload);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(
      'deployment_callback_url must name a workflow run of the payload repository',
    );
    expect(await decisions()).toEqual([]);
  });

  it('a callback URL whose run id is not a safe positive integer is refused at the edge (400), nothing stored', async () => {
    for (const runId of ['99999999999999999999', '0', '9007199254740993']) {
      const payload = requested('staging', 'stage-bot[bot]');
      payload.deployment_callback_url = `${API}${REPO}/actions/runs/${runId}/deployment_protection_rule`;
      const res = await postWebhook(service.port, 'deployment_protection_rule', payload);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(
        'deployment_callback_url must name a workflow run of the payload repository',
      );
    }
    expect(await inboxRows()).toEqual([]);
    expect(await decisions()).toEqual([]);
  });

  it('a stored delivery our ledger refuses (stored by an earlier version) is marked failed with its reason, not retried, and GitHub’s breaker stays closed', async () => {
    // Stored before the edge refused such run ids: five of them, as many as open the breaker.
    for (let i = 0; i < 5; i++) {
      const payload = requested('staging', 'stage-bot[bot]');
      payload.deployment_callback_url = `${API}${REPO}/actions/runs/99999999999999999999/deployment_protection_rule`;
      await service.runtime.store.inbox.record({
        source: 'github',
        deliveryId: `old-${i}`,
        event: 'deployment_protection_rule',
        action: 'requested',
        repository: 'Codertocat/Hello-World',
        payloadText: JSON.stringify(payload),
      });
    }
    const gh = github();
    await service.github!.drain();
    expect(await inboxRows()).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({
        delivery_id: `old-${i}`,
        status: 'failed',
        attempts: 1,
        last_error:
          'deployment_callback_url: deployment_callback_url must name a workflow run of the payload repository',
      })),
    );
    expect(await decisions()).toEqual([]);
    expect(service.github!.breaker.state).toBe(CircuitState.Closed);
    // The next delivery is decided at once.
    await deliver(requested('staging', 'stage-bot[bot]'));
    expect(gh.answers).toEqual([expect.objectContaining({ state: 'approved' })]);
  });
});

describe('the kill switch', () => {
  it('rejects the revoked agent’s deployment that was waiting on a gate, through the callback, and records it', async () => {
    const gh = github();
    await deliver(requested('guarded', 'stage-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect((await decisions()).at(-1)).toMatchObject({ state: 'waiting' });

    const answers: any[] = [];
    const callback = nock(API)
      .post(CALLBACK, (body) => answers.push(body) > 0)
      .reply(204);
    await service.revocations.revoke('stage-bot', 'pushed to production by hand', 'alice');
    await service.github!.drain();
    expect(callback.isDone()).toBe(true);
    expect(answers).toEqual([
      {
        environment_name: 'guarded',
        state: 'rejected',
        comment: expect.stringContaining('stage-bot was revoked by alice: pushed to production by hand'),
      },
    ]);
    expect((await decisions()).at(-1)).toMatchObject({
      agentId: 'stage-bot',
      runId: RUN_ID,
      state: 'rejected',
    });
  });
});

describe('deployments the policy allows are approved at once', () => {
  it('a T4 agent to production, authenticated as the deployment’s creator', async () => {
    const gh = github();
    await deliver(requested('production', 'release-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect(gh.answers).toEqual([
      { environment_name: 'production', state: 'approved', comment: expect.stringContaining('T4 or higher') },
    ]);
    expect((await decisions())[0]).toMatchObject({ agentId: 'release-bot', tier: 'T4', state: 'approved' });
  });

  it('a T3 agent that set off the run (the creator is github-actions[bot]) to staging', async () => {
    const gh = github();
    await deliver(requested('staging', 'github-actions[bot]', { sender: 'stage-bot[bot]' }));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'staging', state: 'approved' });
    expect((await decisions())[0]).toMatchObject({
      agentId: 'stage-bot',
      attribution: { strength: 'authenticated', via: 'run actor stage-bot[bot]' },
    });
  });

  it('a person’s deployment to an environment that does not refuse people', async () => {
    const gh = github();
    await deliver(requested('staging', 'Codertocat'));
    expect(gh.done()).toBe(true);
    expect(gh.answers[0]).toMatchObject({ environment_name: 'staging', state: 'approved' });
    expect((await decisions())[0]).toMatchObject({ agentId: null, attribution: null, state: 'approved' });
  });

  it('a gate on the environment: the deployment waits, with a comment and no verdict', async () => {
    const gh = github();
    await deliver(requested('guarded', 'stage-bot[bot]'));
    expect(gh.done()).toBe(true);
    expect(gh.answers).toEqual([
      { environment_name: 'guarded', comment: expect.stringContaining('gate `prod` applies') },
    ]);
    expect((await decisions())[0]).toMatchObject({ state: 'waiting', gate: 'prod' });
  });
});
