import t from 'tap'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { openBanStore } from '../../lib/adapters/open-ban-store.ts'
import { AuthEventEmitter } from '../../lib/events.ts'
import { banCache } from '../../lib/moderation/ban-cache.ts'
import { resolveModeration } from '../../lib/moderation/config.ts'
import { loginThrottle } from '../../lib/moderation/login-throttle.ts'
import { moderationService } from '../../lib/moderation/moderation-service.ts'
import { resilientBanStore } from '../../lib/moderation/resilient-store.ts'
import type { Ban, BanStore } from '../../lib/ports/ban-store.ts'
import { manualClock } from '../helpers/doubles.ts'

const HOUR = 3_600_000

t.test('the ban cache is bounded: past 10,000 subjects the least recently used is asked again', async t => {
  let finds = 0
  const inner = memoryBanStore()
  const store: BanStore = { ...inner, kind: inner.kind, find: async (subject, now) => { finds++; return inner.find(subject, now) } }
  const cache = banCache(store, 60_000)
  const now = new Date()
  const ip = (i: number) => ({ kind: 'ip' as const, id: `10.0.${i >> 8}.${i & 255}` })
  await cache.find(ip(0), now)
  await cache.find(ip(1), now)
  for (let i = 2; i <= 10_000; i++) await cache.find(ip(i), now)
  await cache.find(ip(1), now)
  t.equal(finds, 10_001, 'ip(1) still cached')
  await cache.find(ip(10_001), now)
  await cache.find(ip(0), now)
  t.equal(finds, 10_003, 'ip(0), the least recently used, was evicted and asked again')
  await cache.find(ip(1), now)
  t.equal(finds, 10_003, 'the recently used one stayed')
  cache.stop()
})

t.test('openBanStore: a URL that is not redis:// is a configuration error naming the option; a redis URL opens the Redis adapter', async t => {
  const storage = memoryStorage()
  await t.rejects(openBanStore({ url: 'http://127.0.0.1:6379' }, storage), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /banStore\.url must be a redis:\/\//u })
  await t.rejects(openBanStore({ url: 'redis://[nope' }, storage, 'REDIS_URI'), { message: /REDIS_URI/u })
  // Nothing listens on port 1: the store opens without connecting and closes promptly.
  const opened = await openBanStore({ url: 'redis://127.0.0.1:1' }, storage)
  t.equal(opened.store.kind, 'redis')
  t.equal(opened.owned, true)
  await opened.store.close()
  const own = memoryBanStore()
  t.same(await openBanStore(own, storage), { store: own, owned: false }, 'a store passed in is the caller\'s')
  t.equal((await openBanStore(undefined, storage)).store.kind, 'memory', 'memory storage has no ban store of its own')
})

t.test('the longer of an address ban and a user ban is the one a client waits for, either way round', async t => {
  const clock = manualClock()
  const store = memoryBanStore()
  const service = moderationService({
    store,
    config: resolveModeration({}),
    events: new AuthEventEmitter(() => {}),
    now: clock.now,
    findUserByEmail: async () => null,
    endSessions: async () => {}
  })
  const ban = (kind: 'ip' | 'user', id: string, ms: number): Ban => ({ subject: { kind, id }, reason: 'logins', createdAt: clock.now(), expiresAt: new Date(clock.ms() + ms) })
  await store.put(ban('ip', '198.51.100.1', HOUR))
  await store.put(ban('user', 'u1', 2 * HOUR))
  await store.put(ban('ip', '198.51.100.2', 3 * HOUR))
  t.match(await service.banOf({ ip: '198.51.100.1', userId: 'u1' }), { subject: { kind: 'user' } }, 'the user ban ends later')
  t.match(await service.banOf({ ip: '198.51.100.2', userId: 'u1' }), { subject: { kind: 'ip' } }, 'the address ban ends later')
  t.match(service.banOf({ ip: '198.51.100.2', userId: 'u1' }), { subject: { kind: 'ip' } }, 'answered from the cache without a promise the second time')
  t.equal(await service.lift('not-an-email@', { ip: null, userAgent: null, requestId: null }), false, 'an email that cannot be canonical names nobody')
  service.stop()
})

t.test('the login throttle keys a context without an address under one shared "unknown" client', async t => {
  const store = memoryBanStore()
  const throttle = loginThrottle({ store, limit: { max: 1, windowMs: 60_000 }, dryRun: false, events: new AuthEventEmitter(() => {}), now: () => new Date(), subjectOf: email => `h(${email})`, wait: async () => {} })
  const context = { ip: null, userAgent: null, requestId: null }
  await throttle.before('a@example.com', context)
  await throttle.failed('a@example.com', context)
  await t.rejects(throttle.before('a@example.com', context), { code: 'FST_LCAUTH_RATE_LIMITED' })
  t.equal((await store.peek('login-pair:v2:h(a@example.com):unknown', new Date())).count, 1)
})

t.test('resilientBanStore: a lift counts when only the fallback held the ban', async t => {
  const clock = manualClock()
  const inner = memoryBanStore()
  let down = true
  // Down at first; once back, it lifts but cannot take the fallback's bans (put keeps failing).
  const primary: BanStore = {
    ...inner,
    put: async ban => { if (down || ban.reason === 'outage') throw new Error('ECONNRESET'); await inner.put(ban) },
    find: async (subject, now) => { if (down) throw new Error('ECONNRESET'); return await inner.find(subject, now) },
    lift: async subject => { if (down) throw new Error('ECONNRESET'); return await inner.lift(subject) },
    list: async now => { if (down) throw new Error('ECONNRESET'); return await inner.list(now) }
  }
  const store = resilientBanStore(primary, { fallback: memoryBanStore(), now: clock.now, retryMs: 1000, onDown: () => {}, onUp: () => {} })
  await store.put({ subject: { kind: 'ip', id: '203.0.113.9' }, reason: 'outage', createdAt: clock.now(), expiresAt: new Date(clock.ms() + HOUR) })
  down = false
  clock.advance(1000)
  t.equal(await inner.find({ kind: 'ip', id: '203.0.113.9' }, clock.now()), null, 'the shared store never got it')
  t.equal(await store.lift({ kind: 'ip', id: '203.0.113.9' }), true, 'lifted where it was')
  t.equal(await store.find({ kind: 'ip', id: '203.0.113.9' }, clock.now()), null)
})
