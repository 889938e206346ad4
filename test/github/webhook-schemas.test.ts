/**
 * The edge's schemas refuse what GitHub would never send (see webhook-edge.test.ts); here, that
 * they accept everything it does: every real payload in @octokit/webhooks-examples of each event
 * this app handles.
 */
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import { expect, it } from 'vitest';
import { isHandledEvent, WEBHOOK_SCHEMAS } from '../../src/github/webhook-schemas.js';

it('accepts every example payload GitHub documents for the events it handles', () => {
  const refused: string[] = [];
  let accepted = 0;
  for (const group of examples as { name: string; examples: Record<string, any>[] }[]) {
    if (!isHandledEvent(group.name)) continue;
    for (const example of group.examples) {
      // An App's deliveries name its installation; the examples are for repository webhooks too.
      const result = WEBHOOK_SCHEMAS[group.name].safeParse({ installation: { id: 1 }, ...example });
      if (result.success) accepted++;
      else refused.push(`${group.name}.${example.action}: ${JSON.stringify(result.error.issues[0])}`);
    }
  }
  expect(refused).toEqual([]);
  expect(accepted).toBeGreaterThan(60);
});
