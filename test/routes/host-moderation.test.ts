import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setImmediate as tick } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { RouteModeration } from '../../lib/moderation/limits.ts'
import { alice, build, relaxedModeration } from '../helpers/app.ts'
import { manualClock } from '../helpers/doubles.ts'
import { errorOf, type Moderation } from '../helpers/moderation.ts'

interface Person { name: string, email: string, password: string, confirm_password: string }

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
const CURL = 'curl/8.5.0'
const bob: Person = { name: 'Bob Builder', email: 'bob@example.test', password: 'another long passphrase 1', confirm_password: 'another long passphrase 1' }
const carol: Person = { name: 'Carol Danvers', email: 'carol@example.test', password: 'a third long passphrase 2', confirm_password: 'a third long passphrase 2' }

/** The relaxed limits of the other suites, plus what a test switches on. */
function moderation (extra: Moderation = {}): Moderation {
  return { ...relaxedModeration, ...extra, limits: { ...relaxedModeration.limits, ...extra.limits } }
}

/** Registers and logs in from `ip`; returns the access token and the user id. */
async function signIn (app: FastifyInstance, person: Person = alice, ip = '127.0.0.1'): Promise<{ token: string, id: string }> {
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: person, remoteAddress: ip })
  if (registered.statusCode !== 200) throw new Error(`register failed: ${registered.body}`)
  const response = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: person.email, password: person.password }, remoteAddress: ip })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`)
  const body = response.json<{ token: string, user: { id: string } }>()
  return { token: body.token, id: body.user.id }
}

function call (app: FastifyInstance, url: string, token: string | null, options: { ip?: string, ua?: string, headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'user-agent': options.ua ?? BROWSER, ...options.headers }
  if (token !== null) headers.authorization = `Bearer ${token}`
  return app.inject({ method: 'POST', url, headers, payload: {}, remoteAddress: options.ip ?? '127.0.0.1' })
}

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve: () => void = () => {}
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

async function until (condition: () => boolean, label: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

const opt = (...features: string[]): { config: { lcauth: { moderation: readonly RouteModeration[] } } } =>
  ({ config: { lcauth: { moderation: features as RouteModeration[] } } })

t.test('an opted-in host route without a token gets 401, with one it runs with request.authUser set', async t => {
  const seen: Array<string | null> = []
  const { app, events } = await build(t, { moderation: moderation({ limitMessageIp: true, limits: { messageIp: { max: 1, windowMs: 60_000 } } }) }, app => {
    app.post('/chat', opt('message'), async request => {
      seen.push(request.authUser?.id ?? null)
      return { ok: true }
    })
  })
  const { token, id } = await signIn(app)
  events.all.length = 0

  for (const [label, bearer] of [['no token', null], ['a forged token', 'not.a.token']] as const) {
    for (let i = 0; i < 3; i++) {
      const response = await call(app, '/chat', bearer)
      t.equal(response.statusCode, 401, `${label}: 401`)
      t.equal(errorOf(response).code, 'FST_LCAUTH_UNAUTHORIZED')
    }
  }
  t.same(seen, [], 'the handler never ran')
  t.equal(events.take('access.denied').length, 6, 'each refusal is an access.denied event')
  t.same(events.take('moderation.limited'), [], 'an unauthenticated request is not counted by the message limiter')

  const ok = await call(app, '/chat', token)
  t.equal(ok.statusCode, 200, 'the budget of 1 was not used up by the 401s')
  t.same(seen, [id], 'the handler sees the authenticated user')
})

t.test('a host route with its own authentication keeps working; the plugin authenticates only when nobody did', async t => {
  let authCalls = 0
  const order: string[] = []
  const hostAuth = async (request: FastifyRequest): Promise<void> => {
    order.push('host auth')
    const who = request.headers['x-host-user']
    if (typeof who !== 'string') throw Object.assign(new Error('host says no'), { statusCode: 418 })
    request.authUser = { id: who, sessionId: 'host', email: `${who}@example.test`, username: null, role: 'USER', provider: 'host' }
  }
  const { app } = await build(t, { moderation: moderation({ limitMessageUser: true, limits: { messageUser: { max: 2, windowMs: 60_000 } } }) }, app => {
    app.post('/with-authenticate', {
      ...opt('message'),
      preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
        authCalls++
        await app.lcauth.authenticate(request, reply)
      }
    }, async request => ({ user: request.authUser?.id }))
    app.post('/host-auth', { ...opt('message'), preHandler: [async () => { order.push('first') }, hostAuth] }, async request => {
      order.push('handler')
      return { user: request.authUser?.id }
    })
  })
  const { token, id } = await signIn(app)

  const ok = await call(app, '/with-authenticate', token)
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { user: id })
  t.equal(authCalls, 1, 'the route\'s own authenticate ran once')
  const denied = await call(app, '/with-authenticate', null)
  t.equal(denied.statusCode, 401, 'the route\'s own authenticate still refuses')

  // The host authenticates by its own means (no bearer token at all): had the plugin's hook run first,
  // or authenticated again, this would be a 401.
  const hosted = await call(app, '/host-auth', null, { headers: { 'x-host-user': 'host-user-1' } })
  t.equal(hosted.statusCode, 200, 'the plugin hook runs after the route\'s preHandlers and trusts their authUser')
  t.same(hosted.json(), { user: 'host-user-1' })
  t.same(order, ['first', 'host auth', 'handler'], 'every own preHandler ran, in order, before the handler')
  t.equal((await call(app, '/host-auth', null)).statusCode, 418, 'the host\'s own refusal stands')

  // The per-user limiter counts the user the host authenticated.
  t.equal((await call(app, '/host-auth', null, { headers: { 'x-host-user': 'host-user-1' } })).statusCode, 200)
  t.equal((await call(app, '/host-auth', null, { headers: { 'x-host-user': 'host-user-1' } })).statusCode, 429, 'host-user-1 is over 2')
  t.equal((await call(app, '/host-auth', null, { headers: { 'x-host-user': 'host-user-2' } })).statusCode, 200, 'another host user has a budget of its own')
})

t.test('messageIp (limitMessageIp): 429 after max per IP, scoring message_limit against the IP and the user', async t => {
  const clock = manualClock()
  let handled = 0
  const { app, events } = await build(t, {
    now: clock.now,
    moderation: moderation({ limitMessageIp: true, limits: { messageIp: { max: 3, windowMs: 60_000 } } })
  }, app => {
    app.post('/chat', opt('message'), async () => {
      handled++
      return { ok: true }
    })
  })
  const a = await signIn(app, alice)
  const b = await signIn(app, bob)
  events.all.length = 0

  for (let i = 0; i < 3; i++) t.equal((await call(app, '/chat', a.token, { ip: '203.0.113.1' })).statusCode, 200, `message ${i + 1} of 3`)
  const refused = await call(app, '/chat', a.token, { ip: '203.0.113.1' })
  t.equal(refused.statusCode, 429)
  t.equal(errorOf(refused).code, 'FST_LCAUTH_RATE_LIMITED')
  t.equal(refused.headers['retry-after'], '60', 'Retry-After: the rest of the window, in seconds')
  t.match(errorOf(refused).message, /60 seconds/)
  t.equal(handled, 3, 'the refused message never reached the handler')
  t.match(events.take('moderation.limited'), [{ limiter: 'messageIp', userId: a.id, dryRun: false, ip: '203.0.113.1' }])
  t.match(events.take('moderation.violation'), [
    { type: 'message_limit', subject: { kind: 'ip', id: '203.0.113.1' }, score: 1, total: 1 },
    { type: 'message_limit', subject: { kind: 'user', id: a.id }, score: 1, total: 1 }
  ])

  t.equal((await call(app, '/chat', b.token, { ip: '203.0.113.1' })).statusCode, 429, 'another user behind the same IP shares its budget')
  t.match(events.take('moderation.violation'), [{ subject: { kind: 'ip' }, total: 2 }, { subject: { kind: 'user', id: b.id }, total: 1 }])
  t.equal((await call(app, '/chat', a.token, { ip: '203.0.113.2' })).statusCode, 200, 'the same user from another IP is not limited (no per-user limiter)')

  clock.advance(60_001)
  t.equal((await call(app, '/chat', a.token, { ip: '203.0.113.1' })).statusCode, 200, 'a new window opens')
  t.same(events.take('ban.created'), [], 'no ban below banInterval')
})

t.test('messageUser (limitMessageUser): keyed by the user, not the IP', async t => {
  const { app, events } = await build(t, { moderation: moderation({ limitMessageUser: true, limits: { messageUser: { max: 2, windowMs: 60_000 } } }) }, app => {
    app.post('/chat', opt('message'), async () => ({ ok: true }))
  })
  const a = await signIn(app, alice)
  const b = await signIn(app, bob)
  const c = await signIn(app, carol)
  events.all.length = 0

  const ip = '203.0.113.10'
  t.equal((await call(app, '/chat', a.token, { ip })).statusCode, 200)
  t.equal((await call(app, '/chat', a.token, { ip })).statusCode, 200)
  t.equal((await call(app, '/chat', a.token, { ip })).statusCode, 429, 'alice over her 2')
  t.equal((await call(app, '/chat', b.token, { ip })).statusCode, 200, 'bob behind the same IP has his own budget')
  t.equal((await call(app, '/chat', b.token, { ip })).statusCode, 200)
  t.equal((await call(app, '/chat', b.token, { ip })).statusCode, 429)
  t.equal((await call(app, '/chat', a.token, { ip: '198.51.100.99' })).statusCode, 429, 'alice from another IP: still her one budget')

  t.equal((await call(app, '/chat', c.token, { ip: '198.51.100.1' })).statusCode, 200)
  t.equal((await call(app, '/chat', c.token, { ip: '198.51.100.2' })).statusCode, 200)
  t.equal((await call(app, '/chat', c.token, { ip: '198.51.100.3' })).statusCode, 429, 'one user from several IPs shares one budget')

  const limited = events.take('moderation.limited')
  t.equal(limited.length, 4)
  t.ok(limited.every(e => e.limiter === 'messageUser'))
  t.same(limited.map(e => e.userId), [a.id, b.id, a.id, c.id])
  t.match(events.take('moderation.violation').filter(v => v.subject.kind === 'user').map(v => [v.subject.id, v.type, v.total]), [[a.id, 'message_limit', 1], [b.id, 'message_limit', 1], [a.id, 'message_limit', 2], [c.id, 'message_limit', 1]])
})

t.test('the message and concurrent limiters are off by default', async t => {
  const gate = deferred()
  let inFlight = 0
  const { app, events } = await build(t, {
    moderation: moderation({ concurrentMessageMax: 1, limits: { messageIp: { max: 1, windowMs: 60_000 }, messageUser: { max: 1, windowMs: 60_000 } } })
  }, app => {
    app.post('/chat', opt('message', 'concurrent'), async request => {
      if ((request.query as Record<string, string>).hold !== undefined) {
        inFlight++
        await gate.promise
      }
      return { ok: true }
    })
  })
  t.teardown(gate.resolve)
  const { token } = await signIn(app)
  events.all.length = 0
  for (let i = 0; i < 10; i++) t.equal((await call(app, '/chat', token)).statusCode, 200, `message ${i + 1}`)
  const held = [call(app, '/chat?hold', token), call(app, '/chat?hold', token), call(app, '/chat?hold', token)]
  await until(() => inFlight === 3, 'three requests in flight')
  gate.resolve()
  t.same((await Promise.all(held)).map(r => r.statusCode), [200, 200, 200], 'no in-flight limit unless switched on')
  t.same(events.take('moderation.limited'), [])
  t.same(events.take('moderation.violation'), [])
})

t.test('concurrent (limitConcurrentMessages): the third in-flight request gets 429, finished requests give their slot back', async t => {
  let gate = deferred()
  let entered = 0
  const { app, events } = await build(t, { moderation: moderation({ limitConcurrentMessages: true, concurrentMessageMax: 2 }) }, app => {
    app.post('/chat', opt('concurrent'), async request => {
      const query = request.query as Record<string, string>
      if (query.fail !== undefined) throw new Error('handler failed')
      if (query.hold !== undefined) {
        entered++
        await gate.promise
      }
      return { ok: true }
    })
  })
  t.teardown(() => gate.resolve())
  const a = await signIn(app, alice)
  const b = await signIn(app, bob)
  events.all.length = 0

  const first = [call(app, '/chat?hold', a.token), call(app, '/chat?hold', a.token)]
  await until(() => entered === 2, 'two requests in flight')
  const third = await call(app, '/chat?hold', a.token)
  t.equal(third.statusCode, 429, 'a third in-flight request is refused')
  t.equal(errorOf(third).code, 'FST_LCAUTH_RATE_LIMITED')
  t.ok(Number(third.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal(entered, 2, 'its handler never ran')
  t.match(events.take('moderation.limited'), [{ limiter: 'concurrent', userId: a.id, dryRun: false }])
  t.match(events.take('moderation.violation'), [
    { type: 'concurrent', subject: { kind: 'ip', id: '127.0.0.1' }, score: 1, total: 1 },
    { type: 'concurrent', subject: { kind: 'user', id: a.id }, score: 1, total: 1 }
  ])
  t.equal((await call(app, '/chat', b.token)).statusCode, 200, 'another user\'s slots are separate')

  gate.resolve()
  t.same((await Promise.all(first)).map(r => r.statusCode), [200, 200])

  // Both slots are free again (and the refused request did not keep one): two more fit, a third does not.
  gate = deferred()
  entered = 0
  const again = [call(app, '/chat?hold', a.token), call(app, '/chat?hold', a.token)]
  await until(() => entered === 2, 'two requests in flight again')
  t.equal((await call(app, '/chat', a.token)).statusCode, 429, 'the limit still holds')
  gate.resolve()
  t.same((await Promise.all(again)).map(r => r.statusCode), [200, 200])

  // A request whose handler fails gives its slot back too.
  for (let i = 0; i < 3; i++) t.equal((await call(app, '/chat?fail', a.token)).statusCode, 500)
  gate = deferred()
  entered = 0
  const afterFailures = [call(app, '/chat?hold', a.token), call(app, '/chat?hold', a.token)]
  await until(() => entered === 2, 'two requests in flight after failures')
  gate.resolve()
  t.same((await Promise.all(afterFailures)).map(r => r.statusCode), [200, 200], 'failed requests released their slots')
})

t.test('concurrent: a slot never released runs out after concurrentTtl', async t => {
  const clock = manualClock()
  const gate = deferred()
  let entered = 0
  const { app } = await build(t, { now: clock.now, moderation: moderation({ limitConcurrentMessages: true, concurrentMessageMax: 1, concurrentTtl: 5000 }) }, app => {
    app.post('/chat', opt('concurrent'), async request => {
      if ((request.query as Record<string, string>).hold !== undefined) {
        entered++
        await gate.promise
      }
      return { ok: true }
    })
  })
  t.teardown(gate.resolve)
  const { token } = await signIn(app)
  const stuck = call(app, '/chat?hold', token)
  await until(() => entered === 1, 'one request in flight')
  t.equal((await call(app, '/chat', token)).statusCode, 429, 'the slot is taken')
  // The in-flight counter expires concurrentTtl after its latest acquire (a refused attempt acquires too).
  clock.advance(4999)
  t.equal((await call(app, '/chat', token)).statusCode, 429, 'still taken before the TTL')
  clock.advance(5001)
  t.equal((await call(app, '/chat', token)).statusCode, 200, 'after concurrentTtl without a release the slot no longer counts')
  gate.resolve()
  t.equal((await stuck).statusCode, 200)
})

t.test('concurrent: a client that disconnects mid-request releases its slot (real server)', async t => {
  const gate = deferred()
  let entered = 0
  let closed = deferred()
  const { app, events } = await build(t, { moderation: moderation({ limitConcurrentMessages: true, concurrentMessageMax: 1 }) }, app => {
    app.post('/chat', opt('concurrent'), async (request, reply) => {
      if ((request.query as Record<string, string>).hold !== undefined) {
        entered++
        // Registered after the plugin's own listener, so it fires after the release.
        reply.raw.once('close', closed.resolve)
        await gate.promise
      }
      return { ok: true }
    })
  })
  t.teardown(gate.resolve)
  const { token } = await signIn(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  const send = (): Promise<Response> => fetch(`${base}/chat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })

  const hanging = httpRequest(`${base}/chat?hold`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
  hanging.on('error', () => {})
  hanging.end('{}')
  await until(() => entered === 1, 'the request to reach the handler')
  const busy = await send()
  t.equal(busy.status, 429, 'while it hangs, its slot is taken')
  await busy.arrayBuffer()
  t.equal(events.take('moderation.limited').length, 1)

  hanging.destroy()
  await closed.promise
  await tick()
  const after = await send()
  t.equal(after.status, 200, 'the disconnected client\'s slot was released')
  t.same(await after.json(), { ok: true })
  t.same(events.take('moderation.limited'), [])

  // And once more: a second abort releases too (the release is per request, not once per app).
  closed = deferred()
  const second = httpRequest(`${base}/chat?hold`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
  second.on('error', () => {})
  second.end('{}')
  await until(() => entered === 2, 'the second request to reach the handler')
  second.destroy()
  await closed.promise
  await tick()
  t.equal((await send()).status, 200)
})

t.test('nonBrowser: a non-browser User-Agent scores non_browser (score from options) and still gets through', async t => {
  const { app, events } = await build(t, { moderation: moderation({ scores: { non_browser: 5 } }) }, app => {
    app.post('/chat', opt('nonBrowser'), async () => ({ ok: true }))
    app.post('/plain-opt-in', opt('message'), async () => ({ ok: true }))
  })
  const a = await signIn(app)
  events.all.length = 0

  const curl = await call(app, '/chat', a.token, { ua: CURL, ip: '203.0.113.20' })
  t.equal(curl.statusCode, 200, 'scoring never refuses by itself')
  t.match(events.take('moderation.violation'), [
    { type: 'non_browser', subject: { kind: 'ip', id: '203.0.113.20' }, score: 5, total: 5 },
    { type: 'non_browser', subject: { kind: 'user', id: a.id }, score: 5, total: 5 }
  ])
  t.equal((await call(app, '/chat', a.token, { ua: CURL, ip: '203.0.113.20' })).statusCode, 200)
  t.match(events.take('moderation.violation').map(v => v.total), [10, 10], 'scores add up')

  t.equal((await call(app, '/chat', a.token, { ua: BROWSER, ip: '203.0.113.20' })).statusCode, 200)
  const firefox = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0'
  t.equal((await call(app, '/chat', a.token, { ua: firefox, ip: '203.0.113.20' })).statusCode, 200)
  t.same(events.take('moderation.violation'), [], 'a browser User-Agent scores nothing')

  const noUa = await app.inject({ method: 'POST', url: '/chat', headers: { authorization: `Bearer ${a.token}` }, payload: {}, remoteAddress: '203.0.113.21' })
  t.equal(noUa.statusCode, 200)
  t.match(events.take('moderation.violation'), [{ type: 'non_browser', subject: { id: '203.0.113.21' } }, { type: 'non_browser' }], 'no browser token at all scores too')

  t.equal((await call(app, '/plain-opt-in', a.token, { ua: CURL })).statusCode, 200)
  t.same(events.take('moderation.violation'), [], 'a route that did not list nonBrowser does not score it')
  t.same(events.take('ban.created'), [], 'under banInterval: no ban')
})

t.test('nonBrowser with the default score (20 = banInterval): one request bans the user and the IP', async t => {
  const { app, events } = await build(t, { moderation: moderation() }, app => {
    app.post('/chat', opt('nonBrowser'), async () => ({ ok: true }))
    app.post('/as-alice', {
      ...opt('message'),
      preHandler: async (request: FastifyRequest) => {
        const id = request.headers['x-user-id']
        if (typeof id === 'string') request.authUser = { id, sessionId: 'host', email: 'x@example.test', username: null, role: 'USER', provider: 'host' }
      }
    }, async () => ({ ok: true }))
    app.post('/plain', async () => ({ ok: true }))
  })
  const a = await signIn(app, alice)
  const b = await signIn(app, bob)
  events.all.length = 0
  const banned = '203.0.113.66'

  const first = await call(app, '/chat', a.token, { ua: CURL, ip: banned })
  t.equal(first.statusCode, 200, 'the request that scored still succeeds')
  const bans = events.take('ban.created')
  t.match(bans, [
    { subject: { kind: 'ip', id: banned }, reason: 'non_browser', by: 'moderation', dryRun: false },
    { subject: { kind: 'user', id: a.id }, reason: 'non_browser', by: 'moderation', dryRun: false }
  ])
  for (const ban of bans) t.equal((ban.expiresAt?.getTime() ?? 0) - ban.at.getTime(), 2 * 3_600_000, 'for banDuration (2 h)')
  t.match(events.take('session.revoked'), [{ userId: a.id, reason: 'ban' }], 'the banned user\'s sessions end')

  const again = await call(app, '/chat', a.token, { ip: '198.51.100.5' })
  t.equal(again.statusCode, 401, 'the banned user\'s access token is dead at once')

  const fromBannedIp = await call(app, '/chat', b.token, { ip: banned })
  t.equal(fromBannedIp.statusCode, 403, 'the banned IP is refused on an opted-in route')
  t.equal(errorOf(fromBannedIp).code, 'FST_LCAUTH_BANNED')
  t.equal(fromBannedIp.headers['retry-after'], '7200', 'Retry-After set by the hook survives the host\'s error handler')
  t.match(errorOf(fromBannedIp).message, /2 hours/)
  t.match(events.take('moderation.refused'), [{ subject: { kind: 'ip', id: banned } }])

  const userBanned = await call(app, '/as-alice', null, { ip: '198.51.100.6', headers: { 'x-user-id': a.id } })
  t.equal(userBanned.statusCode, 403, 'the banned user is refused from any IP')
  t.equal(errorOf(userBanned).code, 'FST_LCAUTH_BANNED')
  t.ok(Number(userBanned.headers['retry-after']) > 7000)
  t.equal((await call(app, '/as-alice', null, { ip: '198.51.100.6', headers: { 'x-user-id': b.id } })).statusCode, 200, 'another user from a clean IP passes')

  const relogin = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password }, remoteAddress: '198.51.100.7' })
  t.equal(relogin.statusCode, 403, 'the banned user cannot log in again')
  t.equal(errorOf(relogin).code, 'FST_LCAUTH_BANNED')
  t.match(events.take('login.failure'), [{ reason: 'banned', userId: a.id }])

  t.equal((await call(app, '/plain', null, { ip: banned })).statusCode, 200, 'a host route without the config is untouched')
  const protectedRoute = await app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Bearer ${b.token}` }, remoteAddress: banned })
  t.equal(protectedRoute.statusCode, 403, 'a host route that only authenticates refuses the banned address too')
  t.equal(errorOf(protectedRoute).code, 'FST_LCAUTH_BANNED')
})

t.test('an IP banned through logViolation is refused on opted-in routes only', async t => {
  const { app, events } = await build(t, { moderation: moderation() }, app => {
    app.post('/report', async request => {
      await app.lcauth.moderation.logViolation(request, 'host_abuse', 20)
      return { ok: true }
    })
    app.post('/chat', opt('message'), async () => ({ ok: true }))
    app.get('/plain', async () => ({ ok: true }))
  })
  const { token } = await signIn(app)
  events.all.length = 0
  t.equal((await app.inject({ method: 'POST', url: '/report', remoteAddress: '203.0.113.77' })).statusCode, 200)
  t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: '203.0.113.77' }, reason: 'host_abuse', by: 'moderation' }])
  t.same((await app.lcauth.moderation.list()).map(b => b.subject), [{ kind: 'ip', id: '203.0.113.77' }])

  const refused = await call(app, '/chat', token, { ip: '203.0.113.77' })
  t.equal(refused.statusCode, 403)
  t.equal(errorOf(refused).code, 'FST_LCAUTH_BANNED')
  t.ok(refused.headers['retry-after'] !== undefined)
  t.equal((await call(app, '/chat', token, { ip: '203.0.113.78' })).statusCode, 200, 'other IPs are not affected')
  t.equal((await app.inject({ method: 'GET', url: '/plain', remoteAddress: '203.0.113.77' })).statusCode, 200, 'the host\'s other routes are never limited')
  t.equal((await app.inject({ method: 'POST', url: '/report', remoteAddress: '203.0.113.77' })).statusCode, 200)

  t.equal(await app.lcauth.moderation.lift('203.0.113.77'), true)
  t.equal((await call(app, '/chat', token, { ip: '203.0.113.77' })).statusCode, 200, 'a lifted ban lets the IP in at once')
})

t.test('an unknown moderation entry is refused when the route is declared, naming the route', async t => {
  const bad: Array<[string, unknown]> = [['bogus entry', ['message', 'bogus']], ['not a list', 'message'], ['a number inside', [1]]]
  for (const [label, value] of bad) {
    let caught: unknown = null
    try {
      await build(t, {}, app => {
        app.post('/bad-route', { config: { lcauth: { moderation: value as RouteModeration[] } } }, async () => ({ ok: true }))
      })
    } catch (error) {
      caught = error
    }
    t.match(caught, { code: 'FST_LCAUTH_CONFIG_INVALID' }, `${label}: refused`)
    t.match((caught as Error | null)?.message, /POST \/bad-route/, `${label}: the message names the route`)
    t.match((caught as Error | null)?.message, /message, concurrent, nonBrowser/, `${label}: and what is allowed`)
  }

  // Routes of encapsulated host plugins opt in the same way, and an empty list still authenticates.
  const { app } = await build(t, {}, async app => {
    await app.register(async child => {
      child.post('/child', opt('message'), async () => ({ ok: true }))
    })
    app.post('/empty', opt(), async request => ({ user: request.authUser?.id }))
  })
  t.equal((await call(app, '/child', null)).statusCode, 401, 'a route in a child plugin is covered')
  t.equal((await call(app, '/empty', null)).statusCode, 401)
  const { token, id } = await signIn(app)
  t.same((await call(app, '/empty', token)).json(), { user: id })
})

t.test('dryRun: every check reports, nothing is refused, nobody is banned', async t => {
  const gate = deferred()
  let entered = 0
  const { app, events } = await build(t, {
    moderation: moderation({
      dryRun: true,
      limitMessageIp: true,
      limitMessageUser: true,
      limitConcurrentMessages: true,
      concurrentMessageMax: 1,
      limits: { messageIp: { max: 1, windowMs: 60_000 }, messageUser: { max: 1, windowMs: 60_000 } }
    })
  }, app => {
    app.post('/chat', opt('message', 'concurrent', 'nonBrowser'), async request => {
      if ((request.query as Record<string, string>).hold !== undefined) {
        entered++
        await gate.promise
      }
      return { ok: true }
    })
  })
  t.teardown(gate.resolve)
  const { token, id } = await signIn(app)
  events.all.length = 0

  for (let i = 0; i < 5; i++) t.equal((await call(app, '/chat', token, { ua: CURL })).statusCode, 200, `request ${i + 1} passes`)
  const held = [call(app, '/chat?hold', token, { ua: CURL }), call(app, '/chat?hold', token, { ua: CURL })]
  await until(() => entered === 2, 'two requests in flight over a max of 1')
  gate.resolve()
  t.same((await Promise.all(held)).map(r => r.statusCode), [200, 200])

  const limited = events.take('moderation.limited')
  t.ok(limited.length > 0 && limited.every(e => e.dryRun), 'limited events, all marked dryRun')
  t.ok(limited.some(e => e.limiter === 'messageIp') && limited.some(e => e.limiter === 'messageUser') && limited.some(e => e.limiter === 'concurrent'))
  const bans = events.take('ban.created')
  t.ok(bans.length >= 2 && bans.every(b => b.dryRun), 'the bans it would create are reported as dryRun')
  t.ok(bans.some(b => b.subject.kind === 'user' && b.subject.id === id))
  t.same(await app.lcauth.moderation.list(), [], 'nothing stored')
  t.same(events.take('session.revoked'), [], 'no session ended')
  t.same(events.take('moderation.refused'), [])
  const still = await app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Bearer ${token}` } })
  t.equal(still.statusCode, 200, 'the token still works')
})
