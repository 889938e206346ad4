/** The App Home: the agents and the approvals that wait, published when a person opens it. */
import { describe, expect, it } from 'vitest';
import { postSlack, slackHeaders } from '../helpers/slack.js';
import { openApprovalRequest, slackSuite } from '../helpers/slack-suite.js';

const s = slackSuite();

describe('the App Home', () => {
  it('publishes the App Home with the agents and the pending approvals', async () => {
    const { service } = s;
    const { slack } = await openApprovalRequest(service);
    const home = JSON.stringify({
      type: 'event_callback',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event_id: 'Ev0001',
      event_time: 1700000000,
      event: {
        type: 'app_home_opened',
        user: 'UALICE',
        channel: 'D0001',
        tab: 'home',
        event_ts: '1700000000.1',
      },
    });
    expect(
      (await postSlack(service.port, home, { ...slackHeaders(home), 'content-type': 'application/json' }))
        .status,
    ).toBe(200);
    await service.slack!.receiver.idle();
    await service.slack!.pump.runNow();
    const publish = slack.find((c) => c.method === 'views.publish')!;
    expect(publish.body.user_id).toBe('UALICE');
    const text = JSON.stringify(JSON.parse(publish.body.view));
    expect(text).toContain('`builder-bot` T2 builder, active');
    expect(text).toContain(
      'Codertocat/Hello-World#2> by `builder-bot`: gate default needs 2 more approval(s) from alice, bob, carol',
    );
  });
});
