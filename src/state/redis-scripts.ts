/** Lua scripts that make multi-key changes atomic on any Redis-protocol server. */

/**
 * KEYS: lock, fence, restored marker. ARGV: holder, ttlMs.
 * → {1, token, ttl}, {0, "token|holder", pttl}, or {-1, "", 0} while the store is not restored.
 */
export const ACQUIRE_LOCK = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {-1, '', 0} end
local current = redis.call('GET', KEYS[1])
if current then return {0, current, redis.call('PTTL', KEYS[1])} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'PX', ARGV[2])
return {1, token, tonumber(ARGV[2])}`;

/**
 * Whether a lock's value ("token|holder") is the grant `token` held by the owner in `who`:
 * "=owner" for an agent (holder `owner` or `owner:detail`), "*" for the service itself.
 */
const HELD_BY = `
local function held_by(value, token, who)
  if not value then return false end
  local t, holder = string.match(value, '^(%d+)|(.*)$')
  if t ~= token then return false end
  if who == '*' then return true end
  local owner = string.sub(who, 2)
  return holder == owner or string.sub(holder, 1, #owner + 1) == owner .. ':'
end`;

/** KEYS: lock. ARGV: token, ttlMs, who ("=owner" or "*"). */
export const EXTEND_LOCK = `${HELD_BY}
if not held_by(redis.call('GET', KEYS[1]), ARGV[1], ARGV[3]) then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS: lock. ARGV: token, who ("=owner" or "*"). */
export const RELEASE_LOCK = `${HELD_BY}
if not held_by(redis.call('GET', KEYS[1]), ARGV[1], ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/**
 * KEYS: budget zset, budgets index. ARGV: member ("id|amount"), at, limit, since, agentId.
 * Members carry their amount after the last "|". Returns {used as string, crossed 0/1}.
 */
export const CHARGE_BUDGET = `
local function used()
  local sum = 0
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[4], '+inf')) do
    sum = sum + tonumber(string.match(m, '|([^|]+)$'))
  end
  return sum
end
local before = used()
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[5])
local after = used()
local limit = tonumber(ARGV[3])
local crossed = 0
if added == 1 and before < limit and after >= limit then crossed = 1 end
return {tostring(after), crossed}`;

/** KEYS: rate zset. ARGV: now, windowMs, limit, member. → {allowed 0/1, count} */
export const HIT_RATE_LIMIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then return {0, count} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, count + 1}`;

/** KEYS: agent record hash. ARGV: field, value, ... Sets the fields only when the record exists. */
export const PATCH_AGENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/**
 * KEYS: executions hash. ARGV: field ("agentId lockKey"), agentId, token, lockKey. Deletes the
 * agent's execution under that lock only when it has that token; also one kept by an earlier
 * version under the agent's id alone (one execution per agent), when it is that lock's.
 */
export const CLEAR_EXECUTION = `
local function clear(field, lockKey)
  local current = redis.call('HGET', KEYS[1], field)
  if not current then return 0 end
  if string.match(current, '"token":(%d+)') ~= ARGV[3] then return 0 end
  if lockKey and not string.find(current, '"lockKey":"' .. lockKey .. '"', 1, true) then return 0 end
  redis.call('HDEL', KEYS[1], field)
  return 1
end
return clear(ARGV[1], nil) + clear(ARGV[2], ARGV[4])`;

/** KEYS: lock, fence. ARGV: holder, token, ttlMs. Raises the fence; sets the lock if it is free. */
export const RESTORE_LOCK = `
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
if fence < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
if tonumber(ARGV[3]) > 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[1], 'PX', ARGV[3])
end
return 1`;

/**
 * KEYS: lease, lease fence. ARGV: owner, ttlMs.
 * → {1, fence, ttl} when `owner` now holds it (taken or renewed), {0, holder, pttl} otherwise.
 */
export const ACQUIRE_LEASE = `
local current = redis.call('GET', KEYS[1])
if current then
  local fence, holder = string.match(current, '^(%d+)|(.*)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(fence), tonumber(ARGV[2])}
  end
  return {0, holder, redis.call('PTTL', KEYS[1])}
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence .. '|' .. ARGV[1], 'PX', ARGV[2])
return {1, fence, tonumber(ARGV[2])}`;

/** KEYS: lease. ARGV: owner. Deletes the lease only when `owner` holds it. */
export const RELEASE_LEASE = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local _, holder = string.match(current, '^(%d+)|(.*)$')
if holder ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;
