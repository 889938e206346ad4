/**
 * A deployment waiting on a gate is answered when the gate is decided in Slack: approved exactly
 * once, rejected with the reason, rejected at the deadline, and given once even when GitHub refused
 * it at first and the service restarted.
 */
import nock from 'nock';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/agov.js';
import { API, githubApi } from '../helpers/github.js';
import { buttonBody, postSlack, viewSubmissionBody } from '../helpers/slack.js';
import { slackApi, startWith } from '../helpers/slack-service.js';
import { cardText } from '../helpers/slack-suite.js';
import {
  CALLBACK,
  click,
  deploymentWorld,
  deployWaits,
  entries,
  ephemerals,
  KEY,
  ORG,
  servicesUp,
  settle,
  updates,
} from './deployment-fakes.js';

const w = deploymentWorld();

describe('the gate decides the deployment', () => {
  it('waits, posts the card, and answers approved exactly once when two approvers approve', async () => {
    const card = await deployWaits(w);
    expect(card.body.text).toBe('Deployment approval needed: Codertocat/Hello-World to guarded by stage-bot');
    expect(cardText(card)).toMatchInlineSnapshot(`
      "# Deployment approval needed: Codertocat/Hello-World to guarded
      *<https://github.com/Codertocat/Hello-World/actions/runs/4242|Workflow run 4242>* on \`gh-pages\`
      *Agent* \`stage-bot\` | *Tier* T3 executor | *Environment* guarded | *Repository* Codertocat/Hello-World
      *Why*
      • agent stage-bot (authenticated by deployment creator stage-bot[bot]), T3, active
      • gate \`prod\` applies
      > Deadline <time>; expiry never approves.
      ⏳ gate prod needs 2 more approval(s) from alice, bob, carol
      [Approve (approval_approve, primary): deployment:Codertocat/Hello-World:run:4242:env:guarded] [Reject (approval_reject, danger): deployment:Codertocat/Hello-World:run:4242:env:guarded]"
    `);

    await click(w, 'UALICE');
    expect(w.answers).toEqual([]);
    expect(cardText(updates(w).at(-1)!)).toContain('⏳ gate prod needs 1 more approval(s) from bob, carol');

    await click(w, 'UBOB');
    await click(w, 'UCAROL'); // too late: it is decided
    expect(w.answers).toEqual([
      {
        uri: CALLBACK,
        environment_name: 'guarded',
        state: 'approved',
        comment: expect.stringContaining('gate `prod` approved by alice, bob'),
      },
    ]);
    expect(ephemerals(w)).toEqual([['UCAROL', 'Not counted: this deployment was already approved.']]);
    const last = updates(w).at(-1)!;
    expect(last.body).toMatchObject({ channel: 'C0APPROVALS', ts: '1700000000.000100' });
    expect(last.body.text).toBe('Deployment approval for Codertocat/Hello-World to guarded: approved');
    expect(cardText(last)).toContain('✅ alice\n✅ bob\n*Approved*');
    expect((await entries(w, 'deployment.decided')).map((d) => [d.state, d.actor])).toEqual([
      ['waiting', 'github'],
      ['approved', 'bob'],
    ]);
  });

  it('GitHub down when the deciding vote lands, and the service restarted: answered approved once, by the next start', async () => {
    await w.service.stop();
    const dir = tempDir();
    w.service = await startWith(ORG, { dir });
    await deployWaits(w);
    await click(w, 'UALICE');
    nock.cleanAll();
    githubApi();
    const down = nock(API).persist().post(CALLBACK).reply(503, { message: 'Service Unavailable' });
    w.slack = slackApi();
    await postSlack(w.service.port, buttonBody('approval_approve', KEY, 'UBOB'));
    await w.service.slack!.receiver.idle();
    w.service.github!.kickOutbox();
    // The answer was tried and refused: it stays in the outbox, recorded with the vote.
    await vi.waitFor(() => expect(down.isDone()).toBe(true), { timeout: 20_000 });
    expect((await entries(w, 'deployment.decided')).map((d) => d.state)).toEqual(['waiting', 'approved']);
    await w.service.stop();

    nock.cleanAll();
    servicesUp(w);
    w.service = await startWith(ORG, { dir });
    await settle(w);
    expect(w.answers).toEqual([expect.objectContaining({ uri: CALLBACK, state: 'approved' })]);
  });

  it('a rejection with its reason answers rejected', async () => {
    await deployWaits(w);
    const res = await postSlack(w.service.port, viewSubmissionBody(KEY, 'UCAROL', 'not during the freeze'));
    expect(res.status).toBe(200);
    await settle(w);
    expect(w.answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        state: 'rejected',
        comment: expect.stringContaining('gate `prod` rejected by carol'),
      }),
    ]);
    expect(cardText(updates(w).at(-1)!)).toContain('⛔ carol: not during the freeze');
  });

  it('expiry answers rejected, saying so, and never approves', async () => {
    await deployWaits(w);
    await click(w, 'UALICE');
    await w.service.maintenance(new Date(Date.now() + 25 * 3600_000));
    await settle(w);
    expect(w.answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        state: 'rejected',
        comment: expect.stringMatching(
          /gate `prod` expired at .* without enough approvals \(expiry never approves\)/,
        ),
      }),
    ]);
    expect(cardText(updates(w).at(-1)!)).toContain('*Rejected*: gate `prod` expired');
    await click(w, 'UBOB');
    expect(ephemerals(w)).toEqual([['UBOB', 'Not counted: this deployment was already rejected.']]);
    expect(w.answers).toHaveLength(1);
  });
});
