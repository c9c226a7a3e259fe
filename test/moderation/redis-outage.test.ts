// MOD-07: the Redis ban store goes away (a TCP proxy the test owns cuts the link) and comes back.
// Limits and bans keep working from the instance's memory, nothing answers 500 or hangs, the outage is
// reported (event + warn log), and what was counted or banned during it still counts after recovery.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import authPlugin, { type AuthOptions } from '../../index.ts'
import { alice, baseOptions, EventLog } from '../helpers/app.ts'
import { banKey, deleteUnder, keysWithoutTtl, randomPrefix } from '../helpers/redis.ts'
import { withService } from '../helpers/services.ts'
import { tcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

type Moderation = NonNullable<AuthOptions['moderation']>

/** No request may take longer than this, outage or not (the command timeout is 500 ms). */
const MAX_LATENCY_MS = 1500
const MAX = 6

const bob = { name: 'Bob', email: 'bob@example.test', password: 'another long password', confirm_password: 'another long password' }

withService(t, 'REDIS_URI', 'redis outage', suite)

interface LogLine { level: number, msg: string, event?: string }

interface Harness {
  app: FastifyInstance
  events: EventLog
  logs: () => LogLine[]
  /** Every request sent through `send`, with its status and latency. */
  sent: Array<{ label: string, status: number, ms: number }>
  send: (label: string, options: { method: 'GET' | 'POST', url: string, remoteAddress: string, payload?: object, token?: string }) => Promise<LightMyRequestResponse>
  login: (ip: string, email?: string, password?: string) => Promise<number>
  message: (ip: string, token: string) => Promise<number>
  /** A ban check only (GET /api/user without a token: 401 unless banned). */
  probe: (ip: string) => Promise<number>
}

function suite (url: string): void {
  const admin = new Redis(url)
  const filePrefix = randomPrefix('outage')
  let scenarios = 0
  const newPrefix = (): string => `${filePrefix}${++scenarios}:`
  const target = new URL(url)

  t.teardown(async () => {
    await deleteUnder(admin, filePrefix)
    await admin.quit()
  })

  async function proxy (t: Test): Promise<TcpProxy & { url: string }> {
    const started = await tcpProxy(target.hostname, Number(target.port === '' ? 6379 : target.port))
    t.teardown(() => started.close())
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String(started.port)
    return { ...started, url: through.toString() }
  }

  const moderation: Moderation = {
    banDuration: 60_000,
    banInterval: 100, // only the /api/violate route (score 100) bans
    limitMessageIp: true,
    limits: {
      login: { max: MAX, windowMs: 60_000 },
      messageIp: { max: MAX, windowMs: 60_000 },
      loginAccount: { max: 1000, windowMs: 60_000 }
    }
  }

  async function harness (t: Test, banStoreUrl: string, keyPrefix: string): Promise<Harness> {
    const lines: string[] = []
    const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
    t.teardown(() => app.close())
    await app.register(authPlugin, { ...baseOptions, banStore: { url: banStoreUrl, keyPrefix }, moderation })
    const events = new EventLog()
    app.lcauth.events.onAny((name, payload) => events.all.push({ name, payload }))
    // A host route opting into message moderation (messageIp, as limitMessageIp is on).
    app.post('/api/message', { config: { lcauth: { moderation: ['message'] } } }, async () => ({ ok: true }))
    // A host route scoring a violation heavy enough to ban the client's address at once.
    app.post('/api/violate', async request => {
      await app.lcauth.moderation.logViolation(request, 'abuse', 100)
      return { ok: true }
    })
    await app.ready()

    const sent: Harness['sent'] = []
    const send: Harness['send'] = async (label, { method, url, remoteAddress, payload, token }) => {
      const started = performance.now()
      const response = await app.inject({
        method,
        url,
        remoteAddress,
        ...(payload === undefined ? {} : { payload }),
        ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
      })
      sent.push({ label, status: response.statusCode, ms: performance.now() - started })
      return response
    }
    return {
      app,
      events,
      sent,
      send,
      logs: () => lines.map(line => JSON.parse(line) as LogLine),
      login: async (ip, email = 'nobody@example.test', password = 'not the password at all') =>
        (await send('login', { method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { email, password } })).statusCode,
      message: async (ip, token) => (await send('message', { method: 'POST', url: '/api/message', remoteAddress: ip, token })).statusCode,
      probe: async ip => (await send('probe', { method: 'GET', url: '/api/user', remoteAddress: ip })).statusCode
    }
  }

  const passed = (statuses: number[]): number => statuses.filter(s => s !== 429).length
  const burst = (count: number, fn: () => Promise<number>): Promise<number[]> => Promise.all(Array.from({ length: count }, fn))

  /** Sends ban checks from a neutral address until `event` shows (or `limitMs` pass); the time it took. */
  async function until (h: Harness, event: 'moderation.store_unavailable' | 'moderation.store_recovered', limitMs: number): Promise<number | null> {
    const started = performance.now()
    while (performance.now() - started < limitMs) {
      await h.probe('192.0.2.250')
      if (h.events.all.some(e => e.name === event)) return performance.now() - started
      await sleep(25)
    }
    return null
  }

  function noFailures (t: Test, h: Harness): void {
    const failures = h.sent.filter(r => r.status >= 500)
    t.same(failures, [], `no 5xx among ${h.sent.length} requests`)
    const slowest = h.sent.reduce((worst, r) => r.ms > worst.ms ? r : worst, { label: 'none', status: 0, ms: 0 })
    t.comment(`slowest of ${h.sent.length} requests: ${slowest.label} ${slowest.status} in ${slowest.ms.toFixed(0)} ms`)
    t.ok(slowest.ms < MAX_LATENCY_MS, `every request answered within ${MAX_LATENCY_MS} ms (slowest ${slowest.ms.toFixed(0)} ms)`)
  }

  t.test('Redis cut and restored under load: no 500, no hang, limits and bans from memory, counts carried over', async t => {
    const prefix = newPrefix()
    const link = await proxy(t)
    const h = await harness(t, link.url, prefix)
    // A second instance on the same prefix that never loses Redis.
    const other = await harness(t, url, prefix)
    t.equal(h.app.lcauth.config.moderation.banCacheTtl, 1000)
    const setup = '192.0.2.200'
    t.equal((await h.send('register', { method: 'POST', url: '/api/auth/register', remoteAddress: setup, payload: alice })).statusCode, 200)
    t.equal((await h.send('register', { method: 'POST', url: '/api/auth/register', remoteAddress: setup, payload: bob })).statusCode, 200)
    const signedIn = await h.send('login', { method: 'POST', url: '/api/auth/login', remoteAddress: setup, payload: { email: alice.email, password: alice.password } })
    t.equal(signedIn.statusCode, 200)
    const token = (signedIn.json() as { token: string }).token
    const bobUser = await h.app.lcauth.storage.users.findByEmail(bob.email)
    if (bobUser === null) throw new Error('bob was not registered')

    // Before: address A uses half its budgets, on Redis.
    const A = '192.0.2.1'
    const before = await Promise.all([...Array.from({ length: 3 }, () => h.login(A)), ...Array.from({ length: 3 }, () => h.message(A, token))])
    t.same(before, [401, 401, 401, 200, 200, 200], 'before the cut: A used 3 of 6 logins and 3 of 6 messages')
    t.equal((await admin.hget(`${prefix}hit:limit:v2:login:${A}`, 'n')), '3', 'counted in Redis')
    t.same(h.events.names().filter(name => name.startsWith('moderation.store')), [])

    // The cut, with requests already on their way and more right behind.
    const atCut = [h.login('192.0.2.9'), h.message('192.0.2.9', token), h.probe('192.0.2.9')]
    link.cut()
    const rightAfter = await Promise.all([...atCut, ...Array.from({ length: 10 }, (_, i) => i % 2 === 0 ? h.login('192.0.2.10') : h.message('192.0.2.10', token))])
    t.ok(rightAfter.every(s => s < 500), `requests across the cut: ${rightAfter.join(' ')}`)
    t.not(await until(h, 'moderation.store_unavailable', 2000), null, 'the outage is noticed')
    const unavailable = h.events.take('moderation.store_unavailable')
    t.equal(unavailable.length, 1, 'one store_unavailable event for the outage')
    t.match(unavailable[0], { store: 'redis', error: String })
    const warned = h.logs().filter(line => line.event === 'lcauth.moderation_store_unavailable')
    t.equal(warned.length, 1, 'one warn log line')
    t.equal(warned[0]?.level, 40, 'at level warn')

    // During: limits work from memory, concurrently, on fresh addresses.
    const B = '192.0.2.2'
    const C = '192.0.2.3'
    const D = '192.0.2.4'
    const E = '192.0.2.5'
    const [loginsB, messagesC, loginsD, messagesE] = await Promise.all([
      burst(10, () => h.login(B)),
      burst(9, () => h.message(C, token)),
      burst(3, () => h.login(D)),
      burst(2, () => h.message(E, token))
    ])
    t.equal(passed(loginsB), MAX, `B: exactly ${MAX} of 10 logins pass during the outage`)
    t.equal(passed(messagesC), MAX, `C: exactly ${MAX} of 9 messages pass during the outage`)
    t.same(loginsD, [401, 401, 401], 'D: 3 logins')
    t.same(messagesE, [200, 200], 'E: 2 messages')
    const limited = h.events.take('moderation.limited')
    t.ok(limited.length >= 7, 'moderation.limited still emitted')

    // During: bans work from memory, one by the operator and one by scoring.
    const bobBan = await h.app.lcauth.moderation.banUser(bob.email, 60_000)
    t.ok(bobBan !== null, 'the operator banned Bob during the outage')
    t.equal(await h.login(setup, bob.email, bob.password), 403, 'Bob is refused during the outage')
    const G = '192.0.2.7'
    t.equal((await h.send('violate', { method: 'POST', url: '/api/violate', remoteAddress: G })).statusCode, 200)
    t.equal(await h.probe(G), 403, 'the address banned during the outage is refused')
    const banned = await h.send('login', { method: 'POST', url: '/api/auth/login', remoteAddress: G, payload: { email: alice.email, password: alice.password } })
    t.equal(banned.statusCode, 403)
    t.match(banned.json(), { code: 'FST_LCAUTH_BANNED' })
    t.equal(await admin.exists(banKey(prefix, { kind: 'user', id: bobUser.id }), banKey(prefix, { kind: 'ip', id: G })), 0, 'not in Redis yet')
    t.equal(await other.probe(G), 401, 'so the other instance does not know of it yet')

    // Stay down past the 1 s retry interval: retries fail fast and go back to memory.
    const outageEnds = performance.now() + 1300
    while (performance.now() < outageEnds) {
      const statuses = await Promise.all([h.login(B), h.message(C, token), h.probe(G)])
      t.same(statuses.slice(0, 3), [429, 429, 403], 'still limited and banned')
      await sleep(100)
    }
    t.same(h.events.names().filter(name => name.startsWith('moderation.store')), [], 'no flapping while down')

    // After: Redis is back.
    link.restore()
    const took = await until(h, 'moderation.store_recovered', 5000)
    t.not(took, null, 'the recovery is noticed')
    t.comment(`recovered ${took?.toFixed(0) ?? 'never'} ms after the restore`)
    t.match(h.events.take('moderation.store_recovered'), [{ store: 'redis' }])
    t.ok(h.logs().some(line => line.event === 'lcauth.moderation_store_recovered' && line.level === 30), 'an info log line')

    // The outage's counts still count: no address gets more than MAX across the boundary.
    const [afterA, afterB, afterC, afterD, afterE] = await Promise.all([
      burst(10, () => h.login(A)),
      burst(5, () => h.login(B)),
      burst(5, () => h.message(C, token)),
      burst(10, () => h.login(D)),
      burst(10, () => h.message(E, token))
    ])
    t.equal(passed(afterA), MAX - 3, `A (untouched during the outage): ${MAX - 3} more, as Redis kept its count`)
    t.equal(passed(afterB), 0, 'B: nothing more after recovery')
    t.equal(passed(afterC), 0, 'C: nothing more after recovery')
    t.equal(passed(afterD), MAX - 3, `D: ${MAX - 3} more, ${MAX} in total across the boundary`)
    t.equal(passed(afterE), MAX - 2, `E: ${MAX - 2} more, ${MAX} in total across the boundary`)

    // The outage's bans are copied into Redis, with their remaining time.
    const copied = async (): Promise<number> => admin.exists(banKey(prefix, { kind: 'user', id: bobUser.id }), banKey(prefix, { kind: 'ip', id: G }))
    for (let i = 0; i < 40 && await copied() < 2; i++) await sleep(25)
    t.equal(await copied(), 2, 'both bans are in Redis')
    const pttl = await admin.pttl(banKey(prefix, { kind: 'user', id: bobUser.id }))
    const remaining = (bobBan?.expiresAt.getTime() ?? 0) - Date.now()
    // A copied ban's key is given the ban's whole length from the copy (lib/adapters/redis/ban-store.ts
    // counts from the earlier of creation and now, so the key outlives the ban by either clock); the
    // ban itself still ends at its expiresAt, which find() judges.
    t.ok(pttl >= remaining - 2000 && pttl <= 60_000, `Bob's ban key lives at least the ban's remaining time, at most its length (PTTL ${pttl}, remaining ${remaining})`)
    const stored = JSON.parse(await admin.get(banKey(prefix, { kind: 'user', id: bobUser.id })) ?? '{}') as { expiresAt?: number, reason?: string }
    t.same(stored, { kind: 'user', id: bobUser.id, reason: 'operator', createdAt: bobBan?.createdAt.getTime(), expiresAt: bobBan?.expiresAt.getTime() }, 'copied as it was made')
    t.equal(await h.login(setup, bob.email, bob.password), 403, 'Bob is still refused')
    t.equal(await h.probe(G), 403, 'G is still refused')
    t.equal(await other.probe(G), 403, 'and the other instance refuses G now')
    t.equal(await h.login('192.0.2.99'), 401, 'a fresh address is served normally')

    noFailures(t, h)
    t.same((await keysWithoutTtl(admin, prefix)).forever, [], 'no key without a TTL')
  })

  t.test('a hanging Redis (a blackhole, no answers) never holds a request past the command timeout', async t => {
    const prefix = newPrefix()
    const link = await proxy(t)
    const h = await harness(t, link.url, prefix)
    t.equal((await h.send('register', { method: 'POST', url: '/api/auth/register', remoteAddress: '192.0.2.200', payload: alice })).statusCode, 200)
    const signedIn = await h.send('login', { method: 'POST', url: '/api/auth/login', remoteAddress: '192.0.2.200', payload: { email: alice.email, password: alice.password } })
    const token = (signedIn.json() as { token: string }).token

    link.cut('blackhole')
    const B = '192.0.2.2'
    const C = '192.0.2.3'
    const first = await Promise.all([...Array.from({ length: 10 }, () => h.login(B)), ...Array.from({ length: 9 }, () => h.message(C, token))])
    t.ok(first.every(s => s < 500), 'no 5xx')
    t.ok(h.events.all.some(e => e.name === 'moderation.store_unavailable'), 'the timeouts were reported')
    // Past the retry interval: the next requests try Redis again, wait out the timeout once, then memory.
    await sleep(1100)
    const second = await Promise.all([h.login(B), h.message(C, token), h.login('192.0.2.4')])
    t.same(second, [429, 429, 401], 'limits kept in memory')
    t.ok(passed(first.slice(0, 10)) <= MAX && passed(first.slice(10)) <= MAX, `at most ${MAX} passed per limiter (${passed(first.slice(0, 10))}, ${passed(first.slice(10))})`)

    link.restore()
    t.not(await until(h, 'moderation.store_recovered', 5000), null, 'recovers once the link is back')
    noFailures(t, h)
  })

  t.test('an app started while Redis is unreachable starts and serves from memory, then recovers', async t => {
    const prefix = newPrefix()
    const link = await proxy(t)
    link.cut()
    const started = performance.now()
    const h = await harness(t, link.url, prefix)
    const startMs = performance.now() - started
    t.comment(`ready after ${startMs.toFixed(0)} ms`)
    t.ok(startMs < 5000, 'ready without waiting for Redis for long')
    const warned = h.logs().filter(line => line.event === 'lcauth.moderation_store_unavailable')
    t.equal(warned.length, 1, 'a warn log line at start')
    t.equal(warned[0]?.level, 40)

    t.equal((await h.send('register', { method: 'POST', url: '/api/auth/register', remoteAddress: '192.0.2.200', payload: alice })).statusCode, 200)
    const signedIn = await h.send('login', { method: 'POST', url: '/api/auth/login', remoteAddress: '192.0.2.200', payload: { email: alice.email, password: alice.password } })
    t.equal(signedIn.statusCode, 200, 'logins are served')
    const token = (signedIn.json() as { token: string }).token
    const B = '192.0.2.2'
    const logins = await burst(8, () => h.login(B))
    t.equal(passed(logins), MAX, `${MAX} of 8 logins pass: the limit works from memory`)
    const messages = await burst(8, () => h.message(B, token))
    t.equal(passed(messages), MAX, `${MAX} of 8 messages pass`)
    t.equal(await admin.exists(`${prefix}hit:limit:v2:login:${B}`), 0, 'nothing reached Redis')

    link.restore()
    t.not(await until(h, 'moderation.store_recovered', 5000), null, 'recovers once Redis is reachable')
    t.equal(await h.login(B), 429, 'the counts from before still count')
    t.equal(await admin.hget(`${prefix}hit:limit:v2:login:${B}`, 'n'), '1', 'now counting in Redis')
    noFailures(t, h)
  })

  t.test('what Redis held before the outage still holds during it (one instance)', async t => {
    const prefix = newPrefix()
    const link = await proxy(t)
    const h = await harness(t, link.url, prefix)
    const P = '192.0.2.30' // banned before the outage
    const Q = '192.0.2.31' // used 4 of its 6 logins before the outage
    t.equal((await h.send('violate', { method: 'POST', url: '/api/violate', remoteAddress: P })).statusCode, 200)
    t.equal(await h.probe(P), 403, 'P is banned, in Redis')
    t.ok(await admin.exists(banKey(prefix, { kind: 'ip', id: P })) === 1)
    t.same(await burst(4, () => h.login(Q)), [401, 401, 401, 401])

    link.cut()
    t.not(await until(h, 'moderation.store_unavailable', 2000), null, 'the outage is noticed')
    await sleep(1100) // past banCacheTtl: the ban is no longer cached
    t.equal(await h.probe(P), 403, 'the ban made before the outage is still enforced during it')
    const during = await burst(10, () => h.login(Q))
    t.ok(passed(during) <= MAX - 4, `Q gets at most ${MAX - 4} more logins during the outage (got ${passed(during)}: ${during.join(' ')})`)

    link.restore()
    t.not(await until(h, 'moderation.store_recovered', 5000), null)
    t.equal(await h.probe(P), 403, 'P is refused again after recovery')
    noFailures(t, h)
  })

  t.test('lifting, during the outage, a ban made before it is not reported as "no ban" while the ban stands', async t => {
    const prefix = newPrefix()
    const link = await proxy(t)
    const h = await harness(t, link.url, prefix)
    const P = '192.0.2.40'
    t.equal((await h.send('violate', { method: 'POST', url: '/api/violate', remoteAddress: P })).statusCode, 200)
    t.equal(await h.probe(P), 403)

    link.cut()
    t.not(await until(h, 'moderation.store_unavailable', 2000), null, 'the outage is noticed')
    const lifted = await h.app.lcauth.moderation.lift(P).then(value => value, () => 'rejected' as const)
    link.restore()
    t.not(await until(h, 'moderation.store_recovered', 5000), null)
    const stillBanned = await h.probe(P) === 403
    t.comment(`lift() during the outage answered ${String(lifted)}; after recovery P is ${stillBanned ? 'still banned' : 'not banned'}`)
    t.ok(lifted === 'rejected' || (lifted === true && !stillBanned), 'either the lift fails loudly or it takes effect')
    t.ok(lifted !== false || !stillBanned, 'never "there was no ban" while the ban stands')
    noFailures(t, h)
  })
}
