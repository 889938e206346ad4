/** The Slack payloads this app handles: only the fields it reads, validated at the edge. */
import { z } from 'zod';

const user = z.object({ id: z.string().regex(/^[UW][A-Z0-9]+$/) });

export const slashCommandSchema = z.object({
  command: z.string(),
  text: z.string().default(''),
  user_id: z.string().regex(/^[UW][A-Z0-9]+$/),
  channel_id: z.string(),
  trigger_id: z.string(),
  team_id: z.string().optional(),
});

export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user,
  trigger_id: z.string(),
  actions: z
    .array(z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string() }))
    .min(1),
  channel: z.object({ id: z.string() }).optional(),
  container: z
    .object({ message_ts: z.string().optional(), channel_id: z.string().optional() })
    .passthrough()
    .optional(),
});

export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user,
  view: z.object({
    id: z.string(),
    callback_id: z.string(),
    private_metadata: z.string(),
    hash: z.string().optional(),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(z.string(), z.object({ value: z.string().nullable().optional() }).passthrough()),
      ),
    }),
  }),
});

export const interactionSchema = z.discriminatedUnion('type', [blockActionsSchema, viewSubmissionSchema]);
export type SlashCommand = z.infer<typeof slashCommandSchema>;
export type BlockActions = z.infer<typeof blockActionsSchema>;
export type ViewSubmission = z.infer<typeof viewSubmissionSchema>;
