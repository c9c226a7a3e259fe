import Fastify, { type FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import t from 'tap'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import type { BanStore } from '../../lib/ports/ban-store.ts'
import { rateLimitStore } from '../../plugins/http/rate-limit-store.ts'
import { manualClock } from '../helpers/doubles.ts'

/** A memory store that says it is shared (so the bridge leases) and counts the round trips it gets. */
function sharedStore (inner: BanStore = memoryBanStore()): { store: BanStore, trips: () => number, fail: (on: boolean) => void } {
  let trips = 0
  let failing = false
  const store: BanStore = {
    ...inner,
    kind: 'redis',
    hit: async (key, windowMs, now, amount) => {
      trips++
      if (failing) throw new Error('ECONNRESET')
      return await inner.hit(key, windowMs, now, amount)
    }
  }
  return { store, trips: () => trips, fail: on => { failing = on } }
}

type Check = (request: never) => Promise<{ isAllowed: boolean, isExceeded?: boolean, remaining?: number }>

/** One "instance": @fastify/rate-limit over the bridge, with one limiter of `max` per minute. */
async function instance (t: { teardown(fn: () => unknown): void }, store: BanStore, max: number, now = () => new Date()): Promise<Check> {
  const app: FastifyInstance = Fastify()
  t.teardown(() => app.close())
  await app.register(rateLimit, { global: false, store: rateLimitStore(store, now) })
  await app.ready()
  return app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: () => 'limit:messageIp:198.51.100.7' }) as unknown as Check
}

const request = { routeOptions: { config: {} } } as never
const allowed = (results: Array<{ isExceeded?: boolean }>): number => results.filter(r => r.isExceeded === false).length

t.test('a key far from its limit costs one round trip per run of counts, not one per request', async t => {
  const { store, trips } = sharedStore()
  const check = await instance(t, store, 100_000)
  for (let i = 0; i < 640; i++) await check(request)
  t.equal(trips(), 10, 'runs of 64')
  const burst = await Promise.all(Array.from({ length: 200 }, () => check(request)))
  t.equal(allowed(burst), 200)
  t.ok(trips() <= 15, `concurrent callers wait for the run on its way instead of each reserving one (${trips()} trips)`)
})

t.test('two instances sharing a store never let more than max through in total, and exactly max when asked enough', async t => {
  const shared = sharedStore()
  const a = await instance(t, shared.store, 500)
  const b = await instance(t, shared.store, 500)
  const results = await Promise.all(Array.from({ length: 1200 }, (_, i) => (i % 2 === 0 ? a : b)(request)))
  t.equal(allowed(results), 500)
  t.equal(results.filter(r => r.isExceeded === true).length, 700)
})

t.test('near the limit every hit goes to the store: a lease never exceeds 1/16 of what is left', async t => {
  const { store, trips } = sharedStore()
  const check = await instance(t, store, 20)
  for (let i = 0; i < 25; i++) await check(request)
  t.equal(trips(), 25, 'with 20 allowed, runs would be empty: one count at a time')
})

t.test('a memory store is counted per request, without leases', async t => {
  const inner = memoryBanStore()
  let trips = 0
  const store: BanStore = { ...inner, hit: async (...args) => { trips++; return await inner.hit(...args) } }
  const check = await instance(t, store, 100_000)
  for (let i = 0; i < 50; i++) await check(request)
  t.equal(trips, 50)
})

t.test('a lease ends with its window', async t => {
  const clock = manualClock()
  const { store, trips } = sharedStore()
  const check = await instance(t, store, 100_000, clock.now)
  await check(request)
  await check(request)
  t.equal(trips(), 1)
  clock.advance(60_000)
  await check(request)
  t.equal(trips(), 2, 'a new window needs a new reservation')
})

t.test('a store error reaches @fastify/rate-limit as an error, and waiters retry on their own', async t => {
  const shared = sharedStore()
  const check = await instance(t, shared.store, 100_000)
  shared.fail(true)
  const results = await Promise.allSettled(Array.from({ length: 3 }, () => check(request)))
  t.ok(results.every(r => r.status === 'rejected'), 'every caller hears of the failure')
  shared.fail(false)
  t.equal((await check(request)).isExceeded, false, 'and counting resumes')
})
