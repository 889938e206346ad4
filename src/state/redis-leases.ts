import { keys, type Scripted } from './redis-keys.js';
import type { LeaseResult, ReplicaInfo } from './state-store.js';

/** Periodic work's leases and the replicas' announcements, on Redis. */
export class RedisLeases {
  constructor(private readonly redis: Scripted) {}

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseResult> {
    const [held, value, ttl] = await this.redis.acquireLease(
      keys.lease(name),
      keys.leaseFence(name),
      owner,
      Math.max(1, Math.round(ttlMs)),
    );
    const expiresAt = Date.now() + Number(ttl);
    return held === 1
      ? { held: true, fence: Number(value), expiresAt }
      : { held: false, holder: String(value), expiresAt };
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.redis.releaseLease(keys.lease(name), owner);
  }

  async announceReplica(replica: ReplicaInfo, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(keys.replica(replica.id), JSON.stringify(replica), 'PX', Math.max(1, Math.round(ttlMs)))
      .sadd(keys.replicas, replica.id)
      .exec();
  }

  /** Announcements that ran out are dropped from the index as they are found. */
  async listReplicas(): Promise<ReplicaInfo[]> {
    const ids = (await this.redis.smembers(keys.replicas)).sort();
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => keys.replica(id)));
    const gone = ids.filter((_, i) => values[i] === null);
    if (gone.length) await this.redis.srem(keys.replicas, ...gone);
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v) as ReplicaInfo]));
  }

  async withdrawReplica(id: string): Promise<void> {
    await this.redis.multi().del(keys.replica(id)).srem(keys.replicas, id).exec();
  }
}
