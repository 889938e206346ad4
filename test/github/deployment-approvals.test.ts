/**
 * A deployment whose environment names a gate waits on the same Slack approvals as a PR: the votes
 * that must not count, through the real endpoints (signed deliveries and clicks, GitHub and Slack
 * at their documented paths). How the gate's answer is given is in deployment-answers.test.ts; the
 * gate's other answers in deployment-gate.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { postWebhook } from '../helpers/github.js';
import { buttonBody, commandBody, postSlack } from '../helpers/slack.js';
import { cardText } from '../helpers/slack-suite.js';
import {
  CALLBACK,
  click,
  deploymentWorld,
  deployWaits,
  entries,
  ephemerals,
  KEY,
  RUN_ID,
  requested,
  settle,
  updates,
} from './deployment-fakes.js';

const w = deploymentWorld();

describe('votes that must not count', () => {
  it('the agent itself, clicking Approve through a Slack user mapped to its login: refused, nothing answered', async () => {
    await deployWaits(w);
    await click(w, 'UAGENT');
    expect(ephemerals(w)).toEqual([['UAGENT', 'Not counted: an agent never approves.']]);
    expect(await entries(w, 'deployment.vote')).toEqual([]);
    expect(w.answers).toEqual([]);
  });

  it('people the gate does not count: unmapped, the agent’s owner, an approver the gate does not name', async () => {
    await deployWaits(w);
    await click(w, 'UMALLORY');
    await click(w, 'UOLIVIA');
    await click(w, 'UDAVE');
    expect(ephemerals(w)).toEqual([
      [
        'UMALLORY',
        'Not counted: you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config.',
      ],
      ['UOLIVIA', "Not counted: the agent's owner may not approve this gate."],
      ['UDAVE', 'Not counted: not a named approver of gate `prod`.'],
    ]);
    expect((await entries(w, 'approval.click')).map((c) => [c.slackUser, c.accepted])).toEqual([
      ['UMALLORY', false],
      ['UOLIVIA', false],
      ['UDAVE', false],
    ]);
    expect(await entries(w, 'deployment.vote')).toEqual([]);
    expect(w.answers).toEqual([]);
  });

  it('a forged button value naming another run, or this run spelled another way, counts nowhere', async () => {
    await deployWaits(w);
    // A second deployment of the same agent waits too: run 4343.
    await postWebhook(
      w.service.port,
      'deployment_protection_rule',
      requested('guarded', 'stage-bot[bot]', 4343),
    );
    await settle(w);
    w.answers.length = 0;
    const forged = [
      `deployment:Codertocat/Hello-World:run:${RUN_ID}:env:%67uarded`, // a second spelling of `guarded`
      `deployment:Codertocat/Hello-World:run:0${RUN_ID}:env:guarded`,
      `${KEY}:run:4343:env:guarded`,
      'deployment:Codertocat/Hello-World:run:9999:env:guarded', // a run that never asked
      `deployment:evil/elsewhere:run:${RUN_ID}:env:guarded`,
      `Codertocat/Hello-World#${RUN_ID}@${'a'.repeat(40)}`, // a PR key with the run's number
    ];
    for (const value of forged) await click(w, 'UALICE', value);
    const noKey = 'Not counted: this approval request is not known (it may be for an older commit).';
    const unknownDeployment = 'Not counted: this deployment approval request is not known.';
    expect(ephemerals(w).map(([, text]) => text)).toEqual([
      noKey,
      noKey,
      noKey,
      unknownDeployment,
      unknownDeployment,
      noKey,
    ]);
    expect(await entries(w, 'deployment.vote')).toEqual([]);
    // Both requests still wait, each for two approvals.
    await click(w, 'UALICE');
    await click(w, 'UBOB');
    expect(w.answers).toEqual([
      expect.objectContaining({ uri: CALLBACK, environment_name: 'guarded', state: 'approved' }),
    ]);
  });

  it('Reject on a forged or unknown deployment key is refused at the click and recorded: no reason form opens', async () => {
    await deployWaits(w);
    const forged = [
      'deployment:Codertocat/Hello-World:run:9999:env:guarded', // a run that never asked
      `deployment:evil/elsewhere:run:${RUN_ID}:env:guarded`,
      `deployment:Codertocat/Hello-World:run:0${RUN_ID}:env:guarded`, // not a key at all
    ];
    for (const value of forged) {
      const res = await postSlack(w.service.port, buttonBody('approval_reject', value, 'UALICE'));
      expect(res.status).toBe(200);
      await settle(w);
    }
    expect(w.slack.filter((c) => c.method === 'views.open')).toEqual([]);
    expect(ephemerals(w).map(([, text]) => text)).toEqual([
      'Not counted: this deployment approval request is not known.',
      'Not counted: this deployment approval request is not known.',
      'Not counted: this approval request is not known (it may be for an older commit).',
    ]);
    expect(
      (await entries(w, 'approval.click')).map((c) => [c.slackUser, c.action, c.approvalKey, c.accepted]),
    ).toEqual(forged.map((key) => ['UALICE', 'reject', key, false]));
    expect(await entries(w, 'deployment.vote')).toEqual([]);
    expect(w.answers).toEqual([]);
    // Reject on the deployment that waits still asks for a reason.
    await postSlack(w.service.port, buttonBody('approval_reject', KEY, 'UALICE'));
    await settle(w);
    expect(w.slack.filter((c) => c.method === 'views.open')).toHaveLength(1);
  });

  it('a replayed click, and the same person clicking again, count once', async () => {
    await deployWaits(w);
    const body = buttonBody('approval_approve', KEY, 'UALICE', '1700000001.000001');
    await postSlack(w.service.port, body);
    await postSlack(w.service.port, body); // Slack's retry or a replay: the same signed request
    await click(w, 'UALICE'); // a second click, a new request
    await settle(w);
    expect((await entries(w, 'deployment.vote')).map((v) => [v.approver, v.verdict])).toEqual([
      ['alice', 'approve'],
    ]);
    expect(ephemerals(w)).toEqual([['UALICE', 'Not counted: alice already voted on this deployment.']]);
    expect(w.answers).toEqual([]);
  });

  it('after the agent is revoked: GitHub gets one answer, rejected; the card closes; late approvals change nothing', async () => {
    await deployWaits(w);
    await click(w, 'UALICE');
    await w.service.revocations.revoke('stage-bot', 'pushed to production by hand', 'carol');
    await settle(w);
    expect(w.answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        environment_name: 'guarded',
        state: 'rejected',
        comment: expect.stringContaining('stage-bot was revoked by carol: pushed to production by hand'),
      }),
    ]);
    // The status shown is the one judged: not the `active` the deployment was first read with.
    expect(w.answers[0].comment).toMatch(
      /^Agent Governance: Rejected: agent stage-bot \(.*\), T3, revoked; /,
    );
    const closed = updates(w).at(-1)!;
    expect(closed.body.text).toBe('Deployment approval for Codertocat/Hello-World to guarded: rejected');
    expect(cardText(closed)).toContain(
      '*Rejected*: stage-bot was revoked by carol: pushed to production by hand',
    );
    expect(cardText(closed)).not.toContain('approval_approve');

    await click(w, 'UBOB');
    expect(ephemerals(w)).toEqual([['UBOB', 'Not counted: this deployment was already rejected.']]);
    expect((await entries(w, 'deployment.vote')).map((v) => v.approver)).toEqual(['alice']);
    expect((await entries(w, 'deployment.decided')).map((d) => d.state)).toEqual(['waiting', 'rejected']);
    expect(w.answers).toHaveLength(1);
  });

  it('after the agent is paused from Slack: GitHub gets one answer, rejected; the card closes; late approvals change nothing', async () => {
    await deployWaits(w);
    await click(w, 'UALICE');
    const res = await postSlack(w.service.port, commandBody('pause stage-bot', 'UCAROL'));
    expect(((await res.json()) as any).text).toBe('`stage-bot` paused.');
    await settle(w);
    expect(w.answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        environment_name: 'guarded',
        state: 'rejected',
        comment: expect.stringMatching(
          /^Agent Governance: Rejected: agent stage-bot \(.*\), T3, suspended; .*stage-bot was suspended by slack:UCAROL: /,
        ),
      }),
    ]);
    const closed = updates(w).at(-1)!;
    expect(closed.body.text).toBe('Deployment approval for Codertocat/Hello-World to guarded: rejected');
    expect(cardText(closed)).toContain('*Rejected*: stage-bot was suspended by slack:UCAROL');
    expect(cardText(closed)).not.toContain('approval_approve');

    await click(w, 'UBOB');
    expect(ephemerals(w)).toEqual([['UBOB', 'Not counted: this deployment was already rejected.']]);
    expect((await entries(w, 'deployment.decided')).map((d) => d.state)).toEqual(['waiting', 'rejected']);
    expect(w.answers).toHaveLength(1);
  });

  it('a revoke signal the ledger does not have yet (the kill switch’s first step) refuses approvals too', async () => {
    await deployWaits(w);
    await w.service.runtime.governance.state.apply([
      {
        kind: 'set_revoke_signal',
        signal: {
          agentId: 'stage-bot',
          reason: 'leaked a key',
          actor: 'carol',
          at: new Date().toISOString(),
          seq: 0,
        },
      },
    ]);
    await click(w, 'UALICE');
    await click(w, 'UBOB');
    const refused = 'Not counted: agent stage-bot is revoked: its deployment is not approved.';
    expect(ephemerals(w)).toEqual([
      ['UALICE', refused],
      ['UBOB', refused],
    ]);
    expect(await entries(w, 'deployment.vote')).toEqual([]);
    expect(w.answers).toEqual([]);
  });

  it('a gate nobody may approve (its approvers are not the organisation’s): rejected at once, no card', async () => {
    const res = await postWebhook(w.service.port, 'deployment_protection_rule', requested('unstaffed'));
    expect(res.status).toBe(202);
    await settle(w);
    expect(w.answers).toEqual([
      expect.objectContaining({
        environment_name: 'unstaffed',
        state: 'rejected',
        comment: expect.stringContaining('no approvers are configured for gate `nobody`'),
      }),
    ]);
    expect(w.slack.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });
});
