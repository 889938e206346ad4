import { randomUUID } from 'node:crypto';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { keys, type Scripted } from './redis-keys.js';

/** What arrives too often or twice, on Redis: sliding windows, request-rate limiters, deliveries seen. */
export class RedisRateLimits {
  constructor(private readonly redis: Scripted) {}

  async hitRateLimit(key: string, limit: number, windowMs: number) {
    const [allowed, count] = await this.redis.hitRateLimit(
      keys.rate(key),
      Date.now(),
      windowMs,
      limit,
      randomUUID(),
    );
    return { allowed: allowed === 1, count };
  }

  async markDeliverySeen(deliveryId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(keys.delivery(deliveryId), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  rateLimiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `ratelimit:${name}`,
      points,
      duration: durationSeconds,
      // Not queued behind a reconnecting client: the in-process count answers at once meanwhile.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points, duration: durationSeconds }),
    });
  }
}
