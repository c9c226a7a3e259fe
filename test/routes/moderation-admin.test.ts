import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { alice, build, refreshCookieOf, relaxedModeration } from '../helpers/app.ts'
import { manualClock } from '../helpers/doubles.ts'
import { A, aliceFrom, B, bearer, C, comparableHeaders, errorOf, loginFrom, type Moderation, MINUTE, protectedRoute, session } from '../helpers/moderation.ts'

/**
 * MOD-05 (administration part), MOD-03, MOD-04, JWT-06: `fastify.lcauth.moderation` — banUser, lift,
 * list and logViolation from a host route — with the default memory ban store, through the plugin's
 * own routes.
 */

const moderation = (own: Moderation = {}): Moderation => ({ ...relaxedModeration, banDuration: 30 * MINUTE, ...own })

/** GET /api/user: guarded by the ban check alone, so 403 when banned and 401 without a token otherwise. */
function me (app: FastifyInstance, ip: string, token?: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/api/user', remoteAddress: ip, headers: token === undefined ? {} : bearer(token) })
}

/** The error code a promise rejects with, or null when it resolves. */
async function codeOf (promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise
    return null
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

/** Host routes that report their own kind of abuse: one for anyone, one behind `authenticate`. */
function hostRoutes (score: number) {
  return (app: FastifyInstance): void => {
    app.post('/host/report', async request => {
      await app.lcauth.moderation.logViolation(request, 'spam', score)
      return { ok: true }
    })
    app.post('/host/report-authed', { preHandler: app.lcauth.authenticate }, async request => {
      await app.lcauth.moderation.logViolation(request, 'spam', score)
      return { ok: true }
    })
  }
}

t.test('banUser bans the user, ends every session, and shows only after the right password', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: moderation() })
  const { token, refresh, userId } = await aliceFrom(app, B)
  const other = await session(app, C)
  events.all.length = 0

  const ban = await app.lcauth.moderation.banUser('Alice@Example.TEST', 45 * MINUTE)
  t.same(ban, { subject: { kind: 'user', id: userId }, reason: 'operator', createdAt: clock.now(), expiresAt: new Date(clock.ms() + 45 * MINUTE) }, 'the ban, found by any spelling of the email')
  t.match(events.take('ban.created'), [{ subject: { kind: 'user', id: userId }, by: 'operator', reason: 'operator', dryRun: false, expiresAt: new Date(clock.ms() + 45 * MINUTE) }])
  t.same(events.take('session.revoked').map(e => [e.userId, e.reason]), [[userId, 'ban'], [userId, 'ban']], 'both sessions ended')
  t.same(await app.lcauth.moderation.list(), [ban], 'list shows it')

  t.equal((await protectedRoute(app, token)).statusCode, 401, 'JWT-06: the access token is refused at once')
  t.equal((await protectedRoute(app, other.token, C)).statusCode, 401)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: B, cookies: { refreshToken: refresh } })
  t.equal(refreshed.statusCode, 401, 'RT-07: the refresh token is dead')
  t.equal(refreshCookieOf(refreshed), null)

  const unknown = await loginFrom(app, B, 'nobody@example.test')
  const wrong = await loginFrom(app, B)
  t.same([wrong.statusCode, wrong.body], [unknown.statusCode, unknown.body], 'LOG-01: a wrong password says nothing of the ban')
  t.strictSame(comparableHeaders(wrong), comparableHeaders(unknown))
  clock.advance(15 * MINUTE)
  const right = await loginFrom(app, B, alice.email, alice.password)
  t.equal(right.statusCode, 403)
  t.equal(errorOf(right).code, 'FST_LCAUTH_BANNED')
  t.equal(right.headers['retry-after'], String(30 * 60), 'Retry-After: the rest of the operator\'s duration')
  t.equal(right.headers['set-cookie'], undefined)
  t.match(events.take('login.failure'), [{ reason: 'unknown_user' }, { reason: 'bad_password' }, { reason: 'banned', userId }])

  t.equal(await app.lcauth.moderation.lift('ALICE@example.test'), true, 'lift by email')
  t.match(events.take('ban.lifted'), [{ subject: { kind: 'user', id: userId }, by: 'operator' }])
  t.same(await app.lcauth.moderation.list(), [])
  t.equal((await loginFrom(app, B, alice.email, alice.password)).statusCode, 200, 'the user is back at once')
  t.equal(await app.lcauth.moderation.lift(alice.email), false, 'nothing left to lift')
  t.same(events.take('ban.lifted'), [], 'and nothing said')
})

t.test('banUser without a duration uses banDuration; 0 is a soft ban', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: moderation({ banDuration: 7 * MINUTE }) })
  const { token, userId } = await aliceFrom(app, B)
  events.all.length = 0

  const soft = await app.lcauth.moderation.banUser(alice.email, 0)
  t.equal(soft, null, 'no ban for duration 0')
  t.match(events.take('ban.created'), [{ subject: { kind: 'user', id: userId }, expiresAt: null, by: 'operator' }])
  t.match(events.take('session.revoked'), [{ userId, reason: 'ban' }], 'the sessions still end')
  t.equal((await protectedRoute(app, token)).statusCode, 401)
  t.same(await app.lcauth.moderation.list(), [])
  t.equal((await loginFrom(app, B, alice.email, alice.password)).statusCode, 200, 'nothing stops a new login')

  const ban = await app.lcauth.moderation.banUser(alice.email)
  t.same(ban?.expiresAt, new Date(clock.ms() + 7 * MINUTE), 'banDuration by default')
})

t.test('banUser and lift refuse what they cannot act on', async t => {
  const { app, events } = await build(t, { moderation: moderation() })
  await aliceFrom(app, B)
  events.all.length = 0

  t.equal(await codeOf(app.lcauth.moderation.banUser('nobody@example.test', MINUTE)), 'FST_LCAUTH_NOT_FOUND', 'unknown email')
  t.equal(await codeOf(app.lcauth.moderation.banUser('not an email', MINUTE)), 'FST_LCAUTH_NOT_FOUND', 'not an email')
  for (const target of ['nonsense', '', '1.2.3.4/24', '999.1.1.1', 'alice', '[::1]']) {
    t.equal(await codeOf(app.lcauth.moderation.lift(target)), 'FST_LCAUTH_VALIDATION', `lift(${JSON.stringify(target)})`)
  }
  t.equal(await app.lcauth.moderation.lift('nobody@example.test'), false, 'an unknown email: nothing to lift')
  t.equal(await app.lcauth.moderation.lift('192.0.2.1'), false, 'an address never banned')
  t.same(events.names(), [], 'no event, no session ended')
})

t.test('lift(ip) lifts an address ban at once: IPv4, IPv4-mapped, and IPv6 by its /64', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: moderation({ banInterval: 2 }) }, hostRoutes(2))
  const report = (ip: string): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: '/host/report', remoteAddress: ip })

  for (const [banned, sameClient, otherClient, liftAs, key] of [
    [A, '::ffff:203.0.113.9', '203.0.113.10', '::ffff:203.0.113.9', A],
    ['2001:db8:1:2::5', '2001:db8:1:2:ffff:ffff:ffff:fffe', '2001:db8:1:3::5', '2001:DB8:1:2:AAAA::1', '2001:db8:1:2::/64']
  ] as const) {
    t.equal((await report(banned)).statusCode, 200)
    t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: key }, by: 'moderation', reason: 'spam' }], `${key}: banned at the threshold`)
    t.equal((await me(app, banned)).statusCode, 403, `${key}: refused`)
    t.equal((await me(app, sameClient)).statusCode, 403, `${key}: the same client under another form is refused too`)
    t.equal((await me(app, otherClient)).statusCode, 401, `${key}: a neighbour is not`)
    t.same((await app.lcauth.moderation.list()).map(b => b.subject.id), [key])

    t.equal(await app.lcauth.moderation.lift(liftAs), true, `lift(${liftAs})`)
    t.match(events.take('ban.lifted'), [{ subject: { kind: 'ip', id: key }, by: 'operator' }])
    t.equal((await me(app, banned)).statusCode, 401, `${key}: let in right after the lift (no stale cache)`)
    t.same(await app.lcauth.moderation.list(), [])
  }
})

t.test('list shows live bans only', async t => {
  const clock = manualClock()
  const { app } = await build(t, { now: clock.now, moderation: moderation({ banInterval: 1, banDuration: 10 * MINUTE }) }, hostRoutes(1))
  await aliceFrom(app, B)
  await app.inject({ method: 'POST', url: '/host/report', remoteAddress: A })
  const userBan = await app.lcauth.moderation.banUser(alice.email, 20 * MINUTE)
  t.same((await app.lcauth.moderation.list()).map(b => b.subject.kind).sort(), ['ip', 'user'])
  clock.advance(10 * MINUTE)
  t.same(await app.lcauth.moderation.list(), [userBan], 'the address ban ended')
  clock.advance(10 * MINUTE)
  t.same(await app.lcauth.moderation.list(), [], 'and then the user ban')
})

t.test('lift answers false for a ban that has already ended', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: moderation() })
  await aliceFrom(app, B)
  await app.lcauth.moderation.banUser(alice.email, 5 * MINUTE)
  clock.advance(5 * MINUTE)
  t.same(await app.lcauth.moderation.list(), [], 'the ban is over')
  events.all.length = 0
  t.equal(await app.lcauth.moderation.lift(alice.email), false, 'nothing to lift')
  t.same(events.take('ban.lifted'), [], 'no ban.lifted for a ban that was no longer in force')
})

t.test('banUser never makes a ban that is in force but unlisted, or a Retry-After that is not a number', async t => {
  for (const duration of [Number.POSITIVE_INFINITY, 1e300, 400 * 24 * 60 * MINUTE]) {
    const { app } = await build(t, { moderation: moderation() })
    await aliceFrom(app, B)
    const code = await codeOf(app.lcauth.moderation.banUser(alice.email, duration))
    if (code !== null) {
      t.equal(code, 'FST_LCAUTH_VALIDATION', `${duration}: refused as invalid`)
      continue
    }
    const bans = await app.lcauth.moderation.list()
    const right = await loginFrom(app, C, alice.email, alice.password)
    if (right.statusCode === 200) {
      t.same(bans, [], `${duration}: no ban in force, none listed`)
      continue
    }
    t.equal(right.statusCode, 403, `${duration}: the ban is enforced`)
    t.match(right.headers['retry-after'], /^[1-9]\d*$/, `${duration}: Retry-After is a whole number of seconds`)
    t.notMatch(errorOf(right).message, /NaN|Infinity/, `${duration}: the message says a real wait`)
    t.equal(bans.length, 1, `${duration}: a ban in force is listed, so an operator can see it`)
    t.ok(bans.every(b => Number.isFinite(b.expiresAt.getTime())), `${duration}: a real end date`)
  }
})

t.test('logViolation from a host route scores the address, and the user only once authenticate proved them', async t => {
  t.test('unauthenticated route: a bearer header is not proof, only the address is scored and banned', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now, moderation: moderation({ banInterval: 4 }) }, hostRoutes(2))
    const { token, userId } = await aliceFrom(app, B)
    events.all.length = 0
    const report = (): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: '/host/report', remoteAddress: A, headers: bearer(token) })

    t.equal((await report()).statusCode, 200)
    t.match(events.take('moderation.violation'), [{ type: 'spam', subject: { kind: 'ip', id: A }, score: 2, total: 2 }])
    t.same(events.take('ban.created'), [], 'below the threshold')
    t.equal((await report()).statusCode, 200)
    const violations = events.take('moderation.violation')
    t.same(violations.map(v => [v.subject.kind, v.total]), [['ip', 4]], 'never the user')
    t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: A }, reason: 'spam', by: 'moderation' }], 'the address banned at the threshold')
    t.same(events.take('session.revoked'), [])
    t.equal((await me(app, A, token)).statusCode, 403, 'the address is refused on the plugin\'s routes')
    t.equal((await me(app, C, token)).statusCode, 200, 'alice from elsewhere is fine')
    t.equal((await loginFrom(app, C, alice.email, alice.password)).statusCode, 200)
    t.equal((await app.lcauth.moderation.list()).some(b => b.subject.id === userId), false)
  })

  t.test('authenticated route: the user and the address are scored and banned, the sessions end', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now, moderation: moderation({ banInterval: 4 }) }, hostRoutes(2))
    const { token, refresh, userId } = await aliceFrom(app, B)
    events.all.length = 0
    const report = (): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: '/host/report-authed', remoteAddress: A, headers: bearer(token) })

    t.equal((await report()).statusCode, 200)
    t.equal((await report()).statusCode, 200)
    t.same(events.take('moderation.violation').map(v => [v.type, v.subject.kind, v.score, v.total]), [
      ['spam', 'ip', 2, 2], ['spam', 'user', 2, 2], ['spam', 'ip', 2, 4], ['spam', 'user', 2, 4]
    ])
    t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: A } }, { subject: { kind: 'user', id: userId } }])
    t.match(events.take('session.revoked'), [{ userId, reason: 'ban' }])
    t.equal((await report()).statusCode, 401, 'the host route\'s authenticate refuses the token at once')
    t.equal((await protectedRoute(app, token, C)).statusCode, 401)
    t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: C, cookies: { refreshToken: refresh } })).statusCode, 401)
    const right = await loginFrom(app, C, alice.email, alice.password)
    t.equal(right.statusCode, 403, 'the user is banned')
    t.equal(errorOf(right).code, 'FST_LCAUTH_BANNED')
    t.equal(right.headers['retry-after'], String(30 * 60))
  })

  t.test('scores are kept per violation type', async t => {
    const { app, events } = await build(t, { moderation: moderation({ banInterval: 4 }) }, setup => {
      setup.post('/host/mixed', async request => {
        await setup.lcauth.moderation.logViolation(request, 'spam', 3)
        await setup.lcauth.moderation.logViolation(request, 'abuse', 3)
        await setup.lcauth.moderation.logViolation(request, 'other')
        return { ok: true }
      })
    })
    t.equal((await app.inject({ method: 'POST', url: '/host/mixed', remoteAddress: A })).statusCode, 200)
    t.same(events.take('moderation.violation').map(v => [v.type, v.score, v.total]), [['spam', 3, 3], ['abuse', 3, 3], ['other', 1, 1]], 'score defaults to 1')
    t.same(events.take('ban.created'), [], '3 + 3 + 1 of different types is no ban')
    t.equal((await app.inject({ method: 'POST', url: '/host/mixed', remoteAddress: A })).statusCode, 200)
    t.same(events.take('ban.created').map(b => b.reason), ['spam', 'abuse'], 'each type that crosses bans; \'other\' is at 2')
  })
})
