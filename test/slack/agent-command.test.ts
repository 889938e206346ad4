/** The `/agent` slash command: answers, refusals, and who may run which command. */
import { describe, expect, it } from 'vitest';
import { commandBody, postSlack } from '../helpers/slack.js';
import { slackApi } from '../helpers/slack-service.js';
import { ORG, slackSuite } from '../helpers/slack-suite.js';

const s = slackSuite();

describe('/agent', () => {
  it('answers help, list and status ephemerally, and refuses and records an admin command from a non-admin', async () => {
    const { service } = s;
    const help = await (await postSlack(service.port, commandBody('help', 'UALICE'))).json();
    expect(help).toMatchObject({ response_type: 'ephemeral' });
    expect((help as any).text).toContain('`/agent revoke <agent> <reason>`: the kill switch (admins)');
    const status = (await (
      await postSlack(service.port, commandBody('status builder-bot', 'UALICE'))
    ).json()) as any;
    expect(status.text).toMatch(/^\*builder-bot\* T2 builder, active\nbudget: 0 of 20 in 168 h\nlocks: none/);
    const refused = (await (
      await postSlack(service.port, commandBody('revoke builder-bot oops', 'UALICE'))
    ).json()) as any;
    expect(refused.text).toBe(
      'You may not run `/agent revoke`: the organisation config names who may (slack.admins).',
    );
    const bad = (await (await postSlack(service.port, commandBody('status', 'UALICE'))).json()) as any;
    expect(bad.text).toBe('Usage: `/agent status <agent>`');
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ status: 'active' });
    const refusals = service.runtime.ledger.db
      .prepare("SELECT actor FROM ledger_entries WHERE type = 'api.refused'")
      .all();
    expect(refusals).toEqual([{ actor: 'UALICE' }]);
  });

  it('an admin revokes from Slack, and the alert goes to the configured channel', async () => {
    const { service } = s;
    const calls = slackApi();
    const res = (await (
      await postSlack(service.port, commandBody('revoke builder-bot leaked a token', 'UADMIN'))
    ).json()) as any;
    expect(res.text).toMatch(/^Revoked `builder-bot` \(rev-builder-bot-\d+\)/);
    await service.slack!.pump.runNow();
    // The alert exactly as the channel reads it.
    expect(calls).toMatchInlineSnapshot(`
      [
        {
          "body": {
            "channel": "C0ALERTS",
            "text": ":rotating_light: \`builder-bot\` was revoked by slack:UADMIN: leaked a token",
          },
          "method": "chat.postMessage",
        },
      ]
    `);
  });
});

describe('who may run which command', () => {
  it('slack.commands replaces the default for a command: listed users only, admins included or not', async () => {
    await s.restart(`${ORG}  commands: { revoke: [UALICE], status: [UADMIN] }\n`);
    slackApi();
    const run = async (text: string, user: string) =>
      ((await (await postSlack(s.service.port, commandBody(text, user))).json()) as any).text as string;
    expect(await run('revoke builder-bot leaked a key', 'UADMIN')).toBe(
      'You may not run `/agent revoke`: the organisation config names who may (slack.commands.revoke).',
    );
    expect(await run('status builder-bot', 'UALICE')).toBe(
      'You may not run `/agent status`: the organisation config names who may (slack.commands.status).',
    );
    expect(await run('list', 'UALICE')).toMatch(/^`builder-bot` T2 builder, active/);
    expect(await run('pause builder-bot', 'UADMIN')).toBe('`builder-bot` paused.');
    expect(await run('revoke builder-bot leaked a key', 'UALICE')).toMatch(/^Revoked `builder-bot`/);
    const refused = s.service.runtime.ledger.db
      .prepare(
        "SELECT actor, json_extract(payload, '$.path') AS what FROM ledger_entries WHERE type = 'api.refused'",
      )
      .all();
    expect(refused).toEqual([
      { actor: 'UADMIN', what: '/agent revoke' },
      { actor: 'UALICE', what: '/agent status' },
    ]);
  });
});
