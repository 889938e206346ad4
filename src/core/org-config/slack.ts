/** The organisation config's `slack:` section: channels, admins, who runs each command, digests. */
import { z } from 'zod';
import { INTEGRATION_EVENTS } from '../lifecycle.js';

/** The `/agent` commands besides `help`: `slack.commands` may say who runs each. */
export const SLACK_COMMANDS = [
  'list',
  'status',
  'audit',
  'suggest',
  'promote',
  'demote',
  'revoke',
  'reinstate',
  'pause',
  'resume',
] as const;
export type SlackCommand = (typeof SLACK_COMMANDS)[number];

/** A Slack user id, as people and admins are named. */
export const slackUserId = z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id looks like U012ABCDEF');
const slackChannelId = z.string().regex(/^[CG][A-Z0-9]+$/, 'a Slack channel id looks like C012ABCDEF');

/** `slack:` channels, admins, who may run each command, and the approver digest. */
export const slackSection = z
  .object({
    /** Where approval requests go. */
    approvals_channel: slackChannelId.optional(),
    /** Integration event → channel for notifications. */
    notify: z.partialRecord(z.enum(INTEGRATION_EVENTS), slackChannelId).default({}),
    /** Slack users who may run the /agent commands that change something. */
    admins: z.array(slackUserId).default([]),
    /**
     * Who may run each /agent command, where the default does not fit: the Slack users listed
     * replace the default (admins for commands that change something, everyone for the others).
     */
    commands: z.partialRecord(z.enum(SLACK_COMMANDS), z.array(slackUserId)).default({}),
    /** Where the bug watcher's findings go. */
    findings_channel: slackChannelId.optional(),
    /**
     * Each approver who may act on a request also hears of it in a direct message; requests
     * arriving within `window_seconds` of the first are sent together, one message per approver.
     */
    approver_digest: z
      .object({
        enabled: z.boolean().default(true),
        window_seconds: z.number().int().nonnegative().max(3600).default(60),
      })
      .strict()
      .default({ enabled: true, window_seconds: 60 }),
  })
  .strict()
  .default({
    notify: {},
    admins: [],
    commands: {},
    approver_digest: { enabled: true, window_seconds: 60 },
  });
