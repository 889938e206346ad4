import { MemoryStateStore } from './memory-state-store.js';
import { RedisStateStore } from './redis-state-store.js';
import type { StateStore } from './state-store.js';

/** Redis when `redisUrl` is set, the in-process store otherwise. */
export async function createStateStore(redisUrl: string | undefined): Promise<StateStore> {
  return redisUrl ? RedisStateStore.connect(redisUrl) : new MemoryStateStore();
}
