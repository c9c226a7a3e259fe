// MOD-06 (distributed counters) and the cross-instance half of MOD-05: several Fastify instances in
// one process share one Redis prefix and one storage object, as replicas behind a load balancer do.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { AuthOptions } from '../../index.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { alice, build, type EventLog, refreshCookieOf } from '../helpers/app.ts'
import { banKey, deleteUnder, keysWithoutTtl, randomPrefix } from '../helpers/redis.ts'
import { withService } from '../helpers/services.ts'

type Moderation = NonNullable<AuthOptions['moderation']>

withService(t, 'REDIS_URI', 'redis instances', suite)

function suite (url: string): void {
  const admin = new Redis(url)
  const filePrefix = randomPrefix('instances')
  let scenarios = 0
  const newPrefix = (): string => `${filePrefix}${++scenarios}:`

  t.teardown(async () => {
    await deleteUnder(admin, filePrefix)
    await admin.quit()
  })

  /** `count` apps on one Redis prefix and one storage object. */
  async function instances (t: Test, count: number, keyPrefix: string, moderation: Moderation, storage: Storage = memoryStorage()): Promise<Array<{ app: FastifyInstance, events: EventLog }>> {
    const apps: Array<{ app: FastifyInstance, events: EventLog }> = []
    for (let i = 0; i < count; i++) apps.push(await build(t, { storage, banStore: { url, keyPrefix }, moderation }))
    return apps
  }

  const failedLogin = (app: FastifyInstance, remoteAddress: string): Promise<LightMyRequestResponse> =>
    app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress, payload: { email: 'nobody@example.test', password: 'not the password at all' } })
  const tally = (statuses: number[]): Record<number, number> => {
    const counts: Record<number, number> = {}
    for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1
    return counts
  }
  /** Polls `check` every 5 ms until it holds or `limitMs` pass; returns the time it took, or null. */
  async function within (limitMs: number, check: () => Promise<boolean>): Promise<number | null> {
    const started = performance.now()
    do {
      if (await check()) return performance.now() - started
      await sleep(5)
    } while (performance.now() - started < limitMs)
    return await check() ? performance.now() - started : null
  }

  // Failed logins for an address nobody registered: the limiter counts them, nothing else refuses them.
  const counting: Moderation = {
    banInterval: 1000, // scored (score keys are written) but never banned, so every refusal is a 429
    limits: { login: { max: 10, windowMs: 60_000 }, loginAccount: { max: 1000, windowMs: 60_000 } }
  }

  t.test('MOD-06: 3 listening instances, 100 concurrent logins against one client key, max 10 → exactly 10 pass', async t => {
    const prefix = newPrefix()
    const apps = await instances(t, 3, prefix, counting)
    const urls: string[] = []
    for (const { app } of apps) urls.push(await app.listen({ port: 0, host: '127.0.0.1' }))

    const started = performance.now()
    const statuses = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const response = await fetch(`${urls[i % 3] as string}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `nobody-${i}@example.test`, password: 'not the password at all' })
      })
      await response.arrayBuffer()
      return response.status
    }))
    t.comment(`100 logins across 3 instances in ${Math.round(performance.now() - started)} ms: ${JSON.stringify(tally(statuses))}`)
    t.equal(statuses.filter(s => s !== 429).length, 10, 'exactly max non-429 responses in total')
    t.same(tally(statuses), { 401: 10, 429: 90 }, 'the 10 that passed were ordinary failed logins; no 5xx')
    const perInstance = [0, 1, 2].map(n => statuses.filter((s, i) => i % 3 === n && s !== 429).length)
    t.comment(`passed per instance: ${perInstance.join(', ')}`)

    const hit = await admin.hgetall(`${prefix}hit:limit:v2:login:127.0.0.1`)
    t.equal(hit.n, '100', 'the shared counter saw every attempt (an atomic script, no lost update)')
    const { scanned, forever } = await keysWithoutTtl(admin, prefix)
    t.ok(scanned.some(key => key.startsWith(`${prefix}hit:`)) && scanned.some(key => key.startsWith(`${prefix}score:`)), `limiter and score keys were written (${scanned.length} keys)`)
    t.same(forever, [], 'SCAN finds no key under the prefix without a TTL')
  })

  t.test('2 instances: one client key gets exactly max in total across both', async t => {
    const prefix = newPrefix()
    const max = 7
    const [a, b] = await instances(t, 2, prefix, { banInterval: 1000, limits: { login: { max, windowMs: 60_000 }, loginAccount: { max: 1000, windowMs: 60_000 } } })
    const apps = [a?.app as FastifyInstance, b?.app as FastifyInstance]
    const ip = '198.51.100.7'
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => failedLogin(apps[i % 2] as FastifyInstance, ip)))
    const statuses = responses.map(r => r.statusCode)
    t.same(tally(statuses), { 401: max, 429: 40 - max }, `exactly ${max} passed`)
    t.ok(statuses.some((s, i) => i % 2 === 0 && s === 429) && statuses.some((s, i) => i % 2 === 1 && s === 429), 'both instances refused')
    const refused = responses.find(r => r.statusCode === 429) as LightMyRequestResponse
    t.match(refused.json(), { code: 'FST_LCAUTH_RATE_LIMITED' })
    t.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After in seconds')
    t.equal((await failedLogin(apps[1] as FastifyInstance, '198.51.100.8')).statusCode, 401, 'another client key has its own budget')
    t.same((await keysWithoutTtl(admin, prefix)).forever, [])
  })

  t.test('an IP ban made by one instance is enforced by the others at once, and so is its lifting', async t => {
    const prefix = newPrefix()
    // A large cache TTL: only the pub/sub invalidation can make the others see the change in time.
    const apps = await instances(t, 3, prefix, {
      banCacheTtl: 60_000,
      banInterval: 2,
      banDuration: 60_000,
      limits: { login: { max: 2, windowMs: 60_000 }, loginAccount: { max: 1000, windowMs: 60_000 } }
    })
    const [a, b, c] = apps.map(entry => entry.app) as [FastifyInstance, FastifyInstance, FastifyInstance]
    const ip = '203.0.113.50'
    const userRoute = (app: FastifyInstance, remoteAddress = ip): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url: '/api/user', remoteAddress })

    // Warm B's and C's caches with "not banned" (GET /api/user: the ban check, then 401 without a token).
    t.equal((await userRoute(b)).statusCode, 401)
    t.equal((await userRoute(c)).statusCode, 401)

    // Control: a ban written straight into Redis, published to nobody, stays unseen behind the warm cache.
    const control = '203.0.113.51'
    t.equal((await userRoute(b, control)).statusCode, 401)
    const at = Date.now()
    await admin.set(banKey(prefix, { kind: 'ip', id: control }), JSON.stringify({ kind: 'ip', id: control, reason: 'test', createdAt: at, expiresAt: at + 60_000 }), 'PX', 60_000)
    t.equal((await userRoute(b, control)).statusCode, 401, 'control: an unpublished change is hidden by the cache (so the cache is in use)')
    t.equal((await userRoute(c, control)).statusCode, 403, 'control: an instance that never looked reads it from Redis')

    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await failedLogin(a, ip)).statusCode)
    t.same(statuses, [401, 401, 429, 429], 'two passed, two refused; the second violation crossed BAN_INTERVAL=2')
    const created = apps[0]?.events.take('ban.created') ?? []
    t.match(created, [{ subject: { kind: 'ip', id: ip }, by: 'moderation', reason: 'logins' }])
    t.ok(await admin.pttl(banKey(prefix, { kind: 'ip', id: ip })) > 55_000, 'the ban is in Redis')

    for (const [name, app] of [['B', b], ['C', c]] as const) {
      const took = await within(200, async () => (await userRoute(app)).statusCode === 403)
      t.not(took, null, `${name} refuses the banned address within 200 ms`)
      t.comment(`${name} saw the ban after ${took === null ? 'never' : `${took.toFixed(1)} ms`}`)
    }
    const refused = await failedLogin(b, ip)
    t.equal(refused.statusCode, 403)
    t.match(refused.json(), { code: 'FST_LCAUTH_BANNED' })
    t.ok(Number(refused.headers['retry-after']) > 55, `Retry-After ${refused.headers['retry-after'] as string} s`)

    t.equal(await a.lcauth.moderation.lift(ip), true, 'lifted on A')
    for (const [name, app] of [['B', b], ['C', c]] as const) {
      const took = await within(200, async () => (await userRoute(app)).statusCode === 401)
      t.not(took, null, `${name} lets the address in again within 200 ms`)
      t.comment(`${name} saw the lift after ${took === null ? 'never' : `${took.toFixed(1)} ms`}`)
    }
    t.equal(await admin.exists(banKey(prefix, { kind: 'ip', id: ip })), 0, 'the ban key is gone')
    t.same((await keysWithoutTtl(admin, prefix)).forever, [])
  })

  t.test('a user banned by the operator on one instance is refused by the others at once; lifting on a third lets them in', async t => {
    const prefix = newPrefix()
    const storage = memoryStorage()
    const apps = await instances(t, 3, prefix, { banCacheTtl: 60_000, limits: { login: { max: 1000, windowMs: 60_000 }, loginAccount: { max: 1000, windowMs: 60_000 } } }, storage)
    const [a, b, c] = apps.map(entry => entry.app) as [FastifyInstance, FastifyInstance, FastifyInstance]
    const login = (app: FastifyInstance): Promise<LightMyRequestResponse> =>
      app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } })
    t.equal((await a.inject({ method: 'POST', url: '/api/auth/register', payload: alice })).statusCode, 200)
    const first = await login(b) // warms B's cache of Alice's ban: none
    t.equal(first.statusCode, 200)
    const token = (first.json() as { token: string }).token
    t.equal((await b.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)

    const ban = await a.lcauth.moderation.banUser(alice.email, 60_000)
    t.ok(ban !== null && ban.subject.kind === 'user', 'A banned Alice')
    const banned = Date.now()
    const took = await within(200, async () => (await login(b)).statusCode === 403)
    t.not(took, null, 'B refuses Alice\'s correct password within 200 ms')
    t.comment(`B saw the user ban after ${took === null ? 'never' : `${took.toFixed(1)} ms`}`)
    const refused = await login(c)
    t.equal(refused.statusCode, 403)
    t.match(refused.json(), { code: 'FST_LCAUTH_BANNED' })
    t.match(apps[2]?.events.take('login.failure'), [{ reason: 'banned' }])

    // The ban ended Alice's sessions in the shared storage: B's revocation mirror picks it up.
    const revoked = await within(1000, async () => (await b.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode === 401)
    t.not(revoked, null, `B refuses Alice's old access token within 1 s of the ban (after ${Date.now() - banned} ms)`)

    t.equal(await c.lcauth.moderation.lift(alice.email), true, 'lifted on C')
    const back = await within(200, async () => (await login(b)).statusCode === 200)
    t.not(back, null, 'B lets Alice log in within 200 ms of the lift')
    t.equal((await login(a)).statusCode, 200)
    t.same((await a.lcauth.moderation.list()), [], 'no live ban left')
  })

  t.test('a session logged out on one instance is refused by the others within 1 s', async t => {
    const prefix = newPrefix()
    const storage = memoryStorage()
    const apps = await instances(t, 3, prefix, { limits: { login: { max: 1000, windowMs: 60_000 }, loginAccount: { max: 1000, windowMs: 60_000 } } }, storage)
    const [a, b, c] = apps.map(entry => entry.app) as [FastifyInstance, FastifyInstance, FastifyInstance]
    t.equal((await a.inject({ method: 'POST', url: '/api/auth/register', payload: alice })).statusCode, 200)
    const response = await a.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } })
    t.equal(response.statusCode, 200)
    const token = (response.json() as { token: string }).token
    const refresh = refreshCookieOf(response) as string
    const protectedOn = (app: FastifyInstance): Promise<LightMyRequestResponse> =>
      app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Bearer ${token}` } })
    for (const app of [a, b, c]) t.equal((await protectedOn(app)).statusCode, 200, 'every instance accepts the token first')

    const logout = await a.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` }, cookies: { refreshToken: refresh } })
    t.equal(logout.statusCode, 200)
    t.equal((await protectedOn(a)).statusCode, 401, 'A refuses it at once')
    const [tookB, tookC] = await Promise.all([b, c].map(app => within(1000, async () => (await protectedOn(app)).statusCode === 401)))
    t.not(tookB, null, 'B refuses it within 1 s')
    t.not(tookC, null, 'C refuses it within 1 s')
    t.comment(`B after ${tookB?.toFixed(0) ?? 'never'} ms, C after ${tookC?.toFixed(0) ?? 'never'} ms`)
  })

  t.test('after every scenario, no key under the file\'s prefix lacks a TTL', async t => {
    const { scanned, forever } = await keysWithoutTtl(admin, filePrefix)
    t.ok(scanned.length > 0, `${scanned.length} keys checked`)
    t.same(forever, [])
  })
}
