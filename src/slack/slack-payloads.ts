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

export type Kind = 'command' | 'interaction' | 'event';
/** A request's payload validated, with the key that makes a repeat of it recognisable; or why not. */
export type Parsed =
  | { ok: true; body: Record<string, unknown>; dedupeKey: string }
  | { ok: false; status: number; error: string; message: string };

/**
 * What an HTTP request carries: an Events API callback or the URL check (JSON), a click or modal
 * submission (a form with a JSON `payload`), or a slash command (a form).
 */
export function parseHttpBody(text: string, contentType: string): Parsed | { challenge: unknown } {
  const notJson: Parsed = { ok: false, status: 400, error: 'bad_payload', message: '' };
  if (contentType.startsWith('application/json')) {
    let json: { type?: string; challenge?: string };
    try {
      json = JSON.parse(text);
    } catch {
      return { ...notJson, message: 'the body is not JSON' };
    }
    if (json.type === 'url_verification') return { challenge: json.challenge };
    return parse('event', json);
  }
  const form = new URLSearchParams(text);
  if (!form.has('payload')) return parse('command', Object.fromEntries(form));
  let json: unknown;
  try {
    json = JSON.parse(form.get('payload')!);
  } catch {
    return { ...notJson, message: 'payload is not JSON' };
  }
  return parse('interaction', json);
}

/** Validates what a request carries and names the key that makes a repeat of it recognisable. */
export function parse(kind: Kind, json: unknown): Parsed {
  const bad = (message: string): Parsed => ({ ok: false, status: 400, error: 'bad_payload', message });
  if (kind === 'event') {
    const e = json as { type?: string; event_id?: string; event?: { type?: string } } | null;
    if (e?.type !== 'event_callback' || !e.event_id || !e.event?.type) return bad('not an event callback');
    return { ok: true, body: e as Record<string, unknown>, dedupeKey: `slack:${e.event_id}` };
  }
  if (kind === 'interaction') {
    const parsed = interactionSchema.safeParse(json);
    if (!parsed.success)
      return bad(
        `not a payload this app handles: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
      );
    return {
      ok: true,
      body: json as Record<string, unknown>,
      dedupeKey:
        parsed.data.type === 'block_actions'
          ? `slack:${parsed.data.user.id}:${parsed.data.actions[0]!.action_ts}`
          : `slack:${parsed.data.view.id}:${parsed.data.view.hash ?? ''}`,
    };
  }
  const parsed = slashCommandSchema.safeParse(json);
  if (!parsed.success)
    return bad(
      `not a slash command: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
    );
  return { ok: true, body: parsed.data, dedupeKey: `slack:${parsed.data.trigger_id}` };
}
