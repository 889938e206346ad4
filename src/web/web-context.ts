import type { IncomingMessage } from 'node:http';
import type { Governance } from '../governance/governance.js';
import { seenRequestsOf } from '../ledger/seen-requests.js';
import type { Logger } from '../platform/logger.js';
import { DecisionViews } from './decision-view.js';
import { FleetViews, type LastVerify } from './fleet-view.js';
import type { Viewer } from './layout.js';
import { type Session, Sessions } from './sessions.js';
import type { WebConfig } from './web-config.js';

/** What every web handler reads from: the views, the sessions, and who may see what. */
export interface WebContext {
  governance: Governance;
  config: WebConfig;
  logger: Logger;
  now: () => Date;
  sessions: Sessions;
  decisions: DecisionViews;
  fleet: FleetViews;
  viewerOf(session: Session): Viewer;
  /** Whether the person can see the repository on GitHub (as their session recorded it). */
  canSee(session: Session, repository: string): boolean;
  /** The callback URL GitHub sends people back to: set it on the App as `{PUBLIC_URL}/auth/callback`. */
  callbackUrl(req: IncomingMessage): string;
}

export function createWebContext(
  governance: Governance,
  config: WebConfig,
  logger: Logger,
  lastVerify?: () => LastVerify | null,
): WebContext {
  const now = () => governance.clock.now();
  const decisions = new DecisionViews(governance);
  // The people the configuration names: admins of the web pages (the fleet is theirs).
  const named = new Set(
    [
      ...config.admins,
      ...governance.config.approvers.map((p) => p.github),
      ...governance.config.people.map((p) => p.github),
    ]
      .filter((l): l is string => Boolean(l))
      .map((l) => l.toLowerCase()),
  );
  return {
    governance,
    config,
    logger,
    now,
    sessions: new Sessions(config, () => now().getTime(), seenRequestsOf(governance.store)),
    decisions,
    fleet: new FleetViews(governance, decisions, lastVerify),
    viewerOf: (s) => ({ login: s.login, admin: named.has(s.login.toLowerCase()) }),
    canSee: (s, repository) => s.repos.includes(repository.toLowerCase()),
    callbackUrl: (req) => {
      if (config.publicUrl) return `${config.publicUrl}/auth/callback`;
      const host = /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host ?? '') ? req.headers.host : 'localhost';
      return `http://${host}/auth/callback`;
    },
  };
}
