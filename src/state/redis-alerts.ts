import { keys, type Scripted } from './redis-keys.js';
import type { Alert } from './state-store.js';

/** `alerts:queue` on Redis: a list, first in first out. */
export class RedisAlerts {
  constructor(private readonly redis: Scripted) {}

  async pushAlert(alert: Alert): Promise<void> {
    await this.redis.rpush(keys.alerts, JSON.stringify(alert));
  }

  async takeAlerts(max: number): Promise<Alert[]> {
    const items = await this.redis.lpop(keys.alerts, max);
    return (items ?? []).map((json) => JSON.parse(json) as Alert);
  }

  async alertQueueLength(): Promise<number> {
    return this.redis.llen(keys.alerts);
  }
}
