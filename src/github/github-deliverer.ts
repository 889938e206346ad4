import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Probot } from 'probot';
import { revocationEffect } from '../governance/revocation-effects.js';
import type { Deliverer, DeliveryOutcome } from '../integrations/delivery-loop.js';
import type { TypedOutboxMessage } from '../integrations/outbox-messages.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { deliverCheckRun } from './deliver-check-run.js';
import { deliverDeploymentReview } from './deployment-gate.js';
import { deliverFindingIssue } from './finding-issue.js';

/** The calls to GitHub waiting in the outbox: check runs, a revoked agent's failed checks, finding issues, deployment answers. */
export function githubDeliverer(options: {
  probot: Probot;
  /** The ledger's reader: where each commit's check-run id is kept. */
  reader: LedgerReader;
  breaker: CircuitBreakerPolicy;
  retry: { initialMs: number; maxMs: number };
  publicUrl: string | null;
  /** While GitHub's rate limit is low, until its reset; null otherwise. */
  rateLimitLowUntil: () => Date | null;
}): Deliverer {
  const { probot, reader, publicUrl } = options;
  // One client per installation, not one per call: its token is cached and renewed by its auth.
  const clients = new Map<number, ReturnType<Probot['auth']>>();
  const installation = (id: number) => {
    let client = clients.get(id);
    if (!client) {
      if (clients.size >= 1000) clients.clear();
      client = probot.auth(id);
      client.catch(() => clients.delete(id));
      clients.set(id, client);
    }
    return client;
  };
  return {
    target: 'github',
    breaker: options.breaker,
    retry: options.retry,
    // Check runs of different commits go out side by side; each commit's in order.
    parallel: 16,
    // A low rate limit is kept for gates: a finding's issue waits for the reset.
    holdUntil(message) {
      const until = message.kind === 'finding_issue' ? options.rateLimitLowUntil() : null;
      return until ? { until, reason: 'rate limit low: gates first' } : null;
    },
    async deliver(message: TypedOutboxMessage): Promise<DeliveryOutcome | undefined> {
      switch (message.kind) {
        case 'finding_issue':
          await deliverFindingIssue(probot, message.payload);
          return undefined;
        case 'deployment_protection_rule.review':
          await deliverDeploymentReview(probot, message.payload);
          return undefined;
        case 'check_run.upsert':
        case 'revocation.fail_check': {
          const { revocation, ...payload } = message.payload;
          const octokit = await installation(payload.installationId);
          await deliverCheckRun(octokit, reader, payload, publicUrl);
          if (!revocation) return undefined;
          // What the revocation established, recorded with the delivery (once, whichever replica).
          const detail = 'the check run now fails with the reason';
          return { effect: revocationEffect({ ...revocation, ok: true, detail }) };
        }
        default:
          throw Object.assign(new Error(`GitHub does not deliver ${message.kind}`), { status: 400 });
      }
    },
  };
}
