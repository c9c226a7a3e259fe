import type { Redis } from 'ioredis'
import type { Ban, BanStore, WindowCount } from '../../ports/ban-store.ts'
import { requestPathClient, shut, whenReady } from './connection.ts'
import { decodeBan, encodeBan, keysFor, subjectMember } from './keys.ts'
import { withScripts } from './scripts.ts'
import { banWatcher } from './watch.ts'

export interface RedisBanStoreOptions {
  /** Where Redis is (`redis://…` or `rediss://…`); the store then owns the client and closes it. */
  url?: string
  /** A client of your own instead of `url`; close() leaves it open. */
  client?: Redis
  /** Put before every key and the pub/sub channel, so several apps can share one Redis. Default `librechat-auth:`. */
  keyPrefix?: string
  /** How long a command may take before it fails (a client made from `url`). Default 500. */
  commandTimeoutMs?: number
  /** How long init() waits for the connection. Default 2000. */
  connectTimeoutMs?: number
}

/**
 * put() is given no `now`: the key lives for the ban's length counted from its creation or from
 * the real time, whichever is earlier, so it outlives the ban's end by either clock. find() and
 * list() still judge against the `now` they are given.
 */
const banTtlMs = (ban: Ban): number =>
  Math.max(1, ban.expiresAt.getTime() - Math.min(Date.now(), ban.createdAt.getTime()))

/** The client to use, and whether the store made it (and so closes it). */
function connect (options: RedisBanStoreOptions, commandTimeoutMs: number, connectTimeoutMs: number): { client: Redis, owned: boolean } {
  const { url, client } = options
  if (client !== undefined && url === undefined) return { client, owned: false }
  if (url !== undefined && client === undefined) return { client: requestPathClient(url, commandTimeoutMs, connectTimeoutMs), owned: true }
  throw new TypeError('redisBanStore takes either url or client')
}

/** Bans, scores and counters in Redis, shared by every process using the same Redis and key prefix. */
export function redisBanStore (options: RedisBanStoreOptions): BanStore {
  const { keyPrefix = 'librechat-auth:', commandTimeoutMs = 500, connectTimeoutMs = 2000 } = options
  const { client: given, owned } = connect(options, commandTimeoutMs, connectTimeoutMs)
  const client = withScripts(given)
  const keys = keysFor(keyPrefix)
  const watcher = banWatcher(client, keys.channel, commandTimeoutMs)
  let closing: Promise<void> | undefined

  return {
    kind: 'redis',
    async find (subject, now) {
      const text = await client.get(keys.ban(subject))
      const ban = text === null ? null : decodeBan(text)
      return ban !== null && ban.expiresAt > now ? ban : null
    },
    async put (ban) {
      await watcher.subscribed()
      await client.lcauthPut(keys.ban(ban.subject), keys.banIndex, encodeBan(ban), banTtlMs(ban),
        subjectMember(ban.subject), ban.expiresAt.getTime(), keys.channel)
    },
    async lift (subject) {
      await watcher.subscribed()
      return await client.lcauthLift(keys.ban(subject), keys.banIndex, subjectMember(subject), keys.channel) === 1
    },
    async list (now) {
      const members = await client.zrange(keys.banIndex, 0, -1)
      if (members.length === 0) return []
      const texts = await client.mget(members.map(keys.banOfMember))
      const live: Ban[] = []
      const goneKeys: string[] = []
      const goneMembers: string[] = []
      texts.forEach((text, i) => {
        const member = String(members[i]) // MGET answers in the order asked
        if (text === null) {
          goneKeys.push(keys.banOfMember(member))
          goneMembers.push(member)
          return
        }
        const ban = decodeBan(text)
        if (ban !== null && ban.expiresAt > now) live.push(ban)
      })
      // Redis expired these bans; the index forgets them here rather than on a hot path.
      if (goneKeys.length > 0) await client.lcauthPrune(1 + goneKeys.length, keys.banIndex, ...goneKeys, ...goneMembers)
      return live
    },
    async addViolation (subject, type, score, ttlMs, now) {
      return Number(await client.lcauthAddViolation(keys.score(subject, type), score, ttlMs, now.getTime()))
    },
    async hit (key, windowMs, now, amount = 1): Promise<WindowCount> {
      const [count, resetAt] = await client.lcauthHit(keys.window(key), windowMs, now.getTime(), amount)
      return { count, resetAt: new Date(resetAt) }
    },
    async peek (key, now): Promise<WindowCount> {
      // One HMGET reads both fields at once; nothing to make atomic.
      const [count, resetAt] = await client.hmget(keys.window(key), 'n', 'e')
      if (typeof resetAt !== 'string' || Number(resetAt) <= now.getTime()) return { count: 0, resetAt: new Date(now) }
      return { count: Number(count), resetAt: new Date(Number(resetAt)) }
    },
    async acquire (key, ttlMs, now) {
      return await client.lcauthAcquire(keys.inFlight(key), ttlMs, now.getTime())
    },
    async release (key, now) {
      await client.lcauthRelease(keys.inFlight(key), now.getTime())
    },
    watch (listener) {
      return watcher.add(listener)
    },
    init () {
      if (closing !== undefined) return Promise.reject(new Error('the Redis ban store is closed'))
      return whenReady(client, connectTimeoutMs)
    },
    async purge () {
      return 0 // every key carries a TTL: Redis expires them itself
    },
    close () {
      closing ??= Promise.all([watcher.close(), owned ? shut(client, commandTimeoutMs) : undefined]).then(() => {})
      return closing
    }
  }
}
