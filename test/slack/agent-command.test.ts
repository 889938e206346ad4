/** The `/agent` slash command: answers, refusals, and who may run which command. */

import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { dbOf } from '../../src/ledger/ledger.js';
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
    const refusals = dbOf(sqliteOf(service.runtime))
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

const answer = async (text: string, user = 'UADMIN') =>
  ((await (await postSlack(s.service.port, commandBody(text, user))).json()) as any).text as string;

describe('every answer of /agent', () => {
  it('answers each command in one clear line (or a few), and a mistake with how to use it', async () => {
    slackApi();
    expect(await answer('help')).toMatchInlineSnapshot(`
      "\`/agent help\`: this list
      \`/agent list\`: every agent with its tier and status
      \`/agent status <agent>\`: tier, status, budget, locks, last activity, open PRs
      \`/agent audit <agent> [n]\`: the newest ledger entries of an agent
      \`/agent promote <agent> [tier]\`: ask for a one-tier promotion (admins)
      \`/agent demote <agent>\`: demote one tier, at once (admins)
      \`/agent revoke <agent> <reason>\`: the kill switch (admins)
      \`/agent reinstate <agent>\`: ask to reinstate a revoked agent (admins)
      \`/agent suggest\`: what the record suggests (promotions, demotions, rules)
      \`/agent pause <agent>\`: suspend an agent until resumed (admins)
      \`/agent resume <agent>\`: resume a paused or budget-suspended agent (admins)"
    `);
    const said: string[] = [];
    for (const text of [
      'frobnicate builder-bot',
      'list',
      'status nobody',
      'audit',
      'audit nobody',
      'resume builder-bot',
      'pause builder-bot',
      'pause builder-bot',
      'resume builder-bot',
      'reinstate builder-bot',
      'demote',
      'revoke builder-bot',
    ])
      said.push(`${text} → ${await answer(text)}`);
    expect(said).toMatchInlineSnapshot(`
      [
        "frobnicate builder-bot → Unknown command \`frobnicate\`. Try \`/agent help\`.",
        "list → \`builder-bot\` T2 builder, active",
        "status nobody → No agent \`nobody\`.",
        "audit → Usage: \`/agent audit <agent> [n]\`",
        "audit nobody → No ledger entries for \`nobody\`.",
        "resume builder-bot → \`builder-bot\` is active; only a suspended agent can be resumed.",
        "pause builder-bot → \`builder-bot\` paused.",
        "pause builder-bot → \`builder-bot\` is suspended; only a active agent can be paused.",
        "resume builder-bot → \`builder-bot\` resumed.",
        "reinstate builder-bot → builder-bot is active: nothing to reinstate",
        "demote → Usage: \`/agent demote <agent>\`",
        "revoke builder-bot → Usage: \`/agent revoke <agent> <reason>\`",
      ]
    `);
  });
});

describe('audit, status and reinstate of an agent with a record', () => {
  it('audit lists the newest entries of an agent, at most n; status says whether a revocation is confirmed; reinstate asks for approval', async () => {
    slackApi();
    await answer('pause builder-bot');
    await answer('resume builder-bot');
    const audit = (await answer('audit builder-bot 2')).split('\n');
    expect(audit).toHaveLength(2);
    expect(audit.map((line) => line.replace(/^\d+ \S+ /, ''))).toEqual([
      'agent.status_changed by slack:UADMIN',
      'agent.status_changed by slack:UADMIN',
    ]);
    expect(await answer('revoke builder-bot leaked a key')).toMatch(/^Revoked `builder-bot`/);
    // Without Vault or open PRs, the revoke signal read back is all there is to confirm.
    expect((await answer('status builder-bot')).split('\n')[0]).toBe(
      '*builder-bot* T2 builder, revoked (revocation confirmed)',
    );
    expect(await answer('reinstate builder-bot')).toMatch(
      /^reinst-builder-bot-\d+: T2 → T2 requested; needs 1 approval\(s\)\.$/,
    );
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
    const refused = dbOf(sqliteOf(s.service.runtime))
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
