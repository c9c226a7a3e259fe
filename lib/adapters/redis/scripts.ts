import type { Redis } from 'ioredis'

// Every write is one Lua script, so Redis runs it alone: concurrent callers never lose a count.
// Expiry is judged against the `now` passed in (ARGV), never against Redis' clock: each counter
// hash stores its logical end next to its value, and its PEXPIRE is only a clean-up that lasts the
// remaining time relative to that `now`. Every script that writes a key gives it a TTL in the same run.

/** Counter hash fields: `n` the value, `e` the logical end (epoch ms). ARGV: score, ttlMs, now. */
const ADD_VIOLATION = `
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
local score, ttl, now = tonumber(ARGV[1]), math.max(1, tonumber(ARGV[2])), tonumber(ARGV[3])
local n = 0
if v[2] and tonumber(v[2]) > now then n = tonumber(v[1]) or 0 end
local total = string.format('%.17g', n + score)
redis.call('HSET', KEYS[1], 'n', total, 'e', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return total
`

/** A fixed window: `n` hits, `e` its end. A window that ended at or before `now` starts over. ARGV: windowMs, now, amount. */
const HIT = `
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
local window, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, e = tonumber(v[1]) or 0, tonumber(v[2])
if not e or e <= now then
  n = 0
  e = now + window
end
n = n + (tonumber(ARGV[3]) or 1)
redis.call('HSET', KEYS[1], 'n', n, 'e', e)
redis.call('PEXPIRE', KEYS[1], math.max(1, e - now))
return { n, e }
`

/** ARGV: ttlMs, now. The latest acquire restarts the ttl. */
const ACQUIRE = `
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
local ttl, now = math.max(1, tonumber(ARGV[1])), tonumber(ARGV[2])
local n = 0
if v[2] and tonumber(v[2]) > now then n = tonumber(v[1]) or 0 end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n, 'e', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return n
`

/** ARGV: now. Never below zero: the last release deletes the key. HSET keeps the key's TTL. */
const RELEASE = `
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
if not v[2] or tonumber(v[2]) <= tonumber(ARGV[1]) then return 0 end
local n = (tonumber(v[1]) or 0) - 1
if n <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('HSET', KEYS[1], 'n', n)
return n
`

/**
 * KEYS: ban, index. ARGV: ban JSON, px, member (subject JSON), expiresAt ms, channel. The index
 * lives at least as long as its longest-lived member, so it is never left without a TTL.
 */
const PUT = `
local px = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', px)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
if redis.call('PTTL', KEYS[2]) < px then redis.call('PEXPIRE', KEYS[2], px) end
redis.call('PUBLISH', ARGV[5], ARGV[3])
return 1
`

/** KEYS: ban, index. ARGV: member (subject JSON), channel. Publishes only when a ban was there. */
const LIFT = `
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if existed == 1 then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
return existed
`

/**
 * KEYS: index, then ban keys; ARGV: the members of those ban keys, in order. Rechecks each ban key
 * here, so a ban put again since the caller read it is never dropped from the index.
 */
const PRUNE = `
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then removed = removed + redis.call('ZREM', KEYS[1], ARGV[i - 1]) end
end
return removed
`

/** The scripts as methods of a client they were defined on (see `withScripts`). */
export interface BanScripts {
  lcauthAddViolation: (key: string, score: number, ttlMs: number, now: number) => Promise<string>
  lcauthHit: (key: string, windowMs: number, now: number, amount: number) => Promise<[number, number]>
  lcauthAcquire: (key: string, ttlMs: number, now: number) => Promise<number>
  lcauthRelease: (key: string, now: number) => Promise<number>
  lcauthPut: (banKey: string, indexKey: string, json: string, px: number, member: string, expiresAt: number, channel: string) => Promise<number>
  lcauthLift: (banKey: string, indexKey: string, member: string, channel: string) => Promise<number>
  /** `keyCount` is 1 + the number of ban keys; then the index, the ban keys and their members. */
  lcauthPrune: (keyCount: number, ...keysThenMembers: string[]) => Promise<number>
}

const DEFINITIONS: Record<keyof BanScripts, { lua: string, numberOfKeys?: number }> = {
  lcauthAddViolation: { lua: ADD_VIOLATION, numberOfKeys: 1 },
  lcauthHit: { lua: HIT, numberOfKeys: 1 },
  lcauthAcquire: { lua: ACQUIRE, numberOfKeys: 1 },
  lcauthRelease: { lua: RELEASE, numberOfKeys: 1 },
  lcauthPut: { lua: PUT, numberOfKeys: 2 },
  lcauthLift: { lua: LIFT, numberOfKeys: 2 },
  // No numberOfKeys: the caller passes the count first, as the number of ban keys varies.
  lcauthPrune: { lua: PRUNE }
}

/**
 * `client` with the scripts defined on it. Stores sharing a client share the definitions (the
 * scripts take every key and the channel as arguments, so they hold no prefix): defined once.
 */
export function withScripts (client: Redis): Redis & BanScripts {
  const scripted = client as Redis & Partial<BanScripts>
  for (const [name, definition] of Object.entries(DEFINITIONS)) {
    if (typeof scripted[name as keyof BanScripts] !== 'function') client.defineCommand(name, definition)
  }
  return client as Redis & BanScripts
}
