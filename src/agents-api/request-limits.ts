import { RateLimiterRes } from 'rate-limiter-flexible';
import type { OrgConfig } from '../core/org-config.js';
import type { Logger } from '../platform/logger.js';
import type { StateStore } from '../state/state-store.js';

/**
 * Request rates of the agent API, counted in the state store (so they hold across replicas on one
 * Redis): every call of an agent, and per source address the calls that carry no valid token.
 * A valid token is counted per agent only, so agents sharing a host (one address) never use up
 * each other's share, and a flood of bad tokens from that host cannot lock them out.
 */
export class RequestLimits {
  private readonly perAgent;
  private readonly perAddress;

  constructor(
    state: StateStore,
    private readonly settings: OrgConfig['agent_api'],
    private readonly logger: Logger,
  ) {
    this.perAgent = state.rateLimiter('api-agent', settings.requests_per_minute, 60);
    this.perAddress = state.rateLimiter('api-address', settings.unauthenticated_per_minute, 60);
  }

  /** Counts a call of `agentId`: null when it may go on, else the seconds to wait. */
  agent(agentId: string): Promise<number | null> {
    return this.consume(this.perAgent, agentId);
  }

  /** Counts a call without a valid token from `address`: null within the limit, else the seconds to wait. */
  address(address: string): Promise<number | null> {
    return this.consume(this.perAddress, address);
  }

  describeAgentLimit(agentId: string, retryAfter: number): string {
    return `agent ${agentId} made more than ${this.settings.requests_per_minute} requests in 60 s; retry after ${retryAfter} s`;
  }

  describeAddressLimit(retryAfter: number): string {
    return `more than ${this.settings.unauthenticated_per_minute} requests without a valid token from this address in 60 s; retry after ${retryAfter} s`;
  }

  private async consume(limiter: ReturnType<StateStore['rateLimiter']>, key: string): Promise<number | null> {
    try {
      await limiter.consume(key);
      return null;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      // The store and its in-process stand-in both failed: a rate is not a safety check (preflight
      // denies on its own when the store is down), so the call goes on.
      this.logger.warn({ err: rejection }, 'request rate not counted');
      return null;
    }
  }
}
