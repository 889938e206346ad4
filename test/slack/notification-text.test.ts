import { describe, expect, it } from 'vitest';
import { integrationEventFor } from '../../src/core/integration-events.js';
import type { LedgerEntry } from '../../src/core/ledger-entries.js';
import { notificationText } from '../../src/slack/notification-text.js';

const hostile = 'hi <!channel> <@U0ADMIN> <https://evil.example/login|sign in> & <!here>';

describe('notification text', () => {
  it('escapes every value for mrkdwn, so text can mention nobody and link nowhere', () => {
    const texts = [
      notificationText('agent_revoked', { agentId: 'rogue', actor: hostile, reason: hostile }),
      notificationText('violation_detected', {
        agentId: 'rogue',
        violation: 'unauthorized_path',
        severity: 'high',
        details: hostile,
        consequence: 'suspend',
      }),
      notificationText('approval_required', {
        agentId: 'rogue',
        repository: 'acme/web',
        number: 7,
        summary: hostile,
      }),
      notificationText('plan_created', { agentId: hostile }),
    ];
    for (const text of texts) {
      expect(text).not.toMatch(/<[!@#]|<https?:|\|sign in>/);
      expect(text).toContain(
        '&lt;!channel&gt; &lt;@U0ADMIN&gt; &lt;https://evil.example/login|sign in&gt; &amp;',
      );
    }
    expect(texts[0]).toBe(
      ':rotating_light: `rogue` was revoked by hi &lt;!channel&gt; &lt;@U0ADMIN&gt; &lt;https://evil.example/login|sign in&gt; &amp; &lt;!here&gt;: hi &lt;!channel&gt; &lt;@U0ADMIN&gt; &lt;https://evil.example/login|sign in&gt; &amp; &lt;!here&gt;',
    );
  });

  it('names the agent of the ledger entry, never one from the event data', () => {
    const entry = {
      seq: 9,
      ts: '2026-01-01T00:00:00.000Z',
      type: 'integration.event',
      agentId: 'beta',
      actor: 'beta',
      payload: { event: 'plan_created', data: { agentId: 'alpha', seq: 1 } },
      prevHash: '0',
      hash: '1',
    } as LedgerEntry;
    const routed = integrationEventFor(entry)!;
    expect(routed.data).toMatchObject({ agentId: 'beta' });
    expect(notificationText(routed.event, routed.data)).toBe('`beta`: plan created');
  });
});
