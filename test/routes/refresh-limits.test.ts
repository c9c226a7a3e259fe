import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { build, refreshCookieOf } from '../helpers/app.ts'
import { manualClock } from '../helpers/doubles.ts'
import { A, aliceFrom, B, C, errorOf, limits, MINUTE, SECOND } from '../helpers/moderation.ts'

/**
 * RT-08 and DESIGN §7: refresh is limited per session (REFRESH_MAX), with a per-address ceiling
 * (REFRESH_IP_MAX) high enough for a large NAT, and a valid session's refreshes never score toward a ban
 * of the address it shares. Forged, stale or missing cookies are scored against the address.
 */

const NO_BANS = 1_000_000

function refresh (app: FastifyInstance, ip: string, cookie: string | null): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: ip, ...(cookie === null ? {} : { cookies: { refreshToken: cookie } }) })
}

/** A user of its own, registered and logged in from `ip`: the refresh cookie of its session. */
async function member (app: FastifyInstance, n: number, ip: string): Promise<string> {
  const user = { name: `Member ${n}`, email: `member${n}@example.test`, password: 'a long enough passphrase', confirm_password: 'a long enough passphrase' }
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', remoteAddress: ip, payload: user })
  if (registered.statusCode !== 200) throw new Error(`register failed: ${registered.body}`)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { email: user.email, password: user.password } })
  const cookie = refreshCookieOf(login)
  if (cookie === null) throw new Error(`login failed: ${login.body}`)
  return cookie
}

t.test('100 clients behind one address, each refreshing its own session 4 times a minute, are never limited or banned', async t => {
  const clock = manualClock()
  // The default refresh limits (30 per session, 600 per address, a minute) and the default bans.
  const { app, events } = await build(t, { now: clock.now, moderation: { limits: limits({ refresh: { max: 30, windowMs: MINUTE }, refreshIp: { max: 600, windowMs: MINUTE } }) } })
  const cookies: string[] = []
  for (let n = 0; n < 100; n++) cookies.push(await member(app, n, A))
  events.all.length = 0

  const statuses = new Map<number, number>()
  for (let round = 0; round < 12; round++) {
    for (const [i, cookie] of cookies.entries()) {
      const response = await refresh(app, A, cookie)
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      cookies[i] = refreshCookieOf(response) ?? cookie
    }
    clock.advance(15 * SECOND)
  }
  t.same([...statuses], [[200, 1200]], '1200 refreshes in 3 minutes, 400 a minute from one address: all rotated')
  t.same(events.take('moderation.limited'), [], 'never limited')
  t.same(events.take('moderation.violation'), [], 'never scored')
  t.same(events.take('ban.created'), [], 'never banned')
})

t.test('one session refreshing 31 times in a minute gets 429 for that session only, and scores nothing', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: 1, limits: limits({ refresh: { max: 30, windowMs: MINUTE } }) } })
  let { refresh: busy } = await aliceFrom(app, A)
  const neighbour = await member(app, 1, A)
  events.all.length = 0

  for (let n = 1; n <= 30; n++) {
    const response = await refresh(app, A, busy)
    t.equal(response.statusCode, 200, `refresh ${n}`)
    busy = refreshCookieOf(response) ?? busy
    clock.advance(SECOND)
  }
  const over = await refresh(app, A, busy)
  t.equal(over.statusCode, 429, 'the 31st refresh of the session within the minute')
  t.equal(errorOf(over).code, 'FST_LCAUTH_RATE_LIMITED')
  t.equal(over.headers['retry-after'], '30', 'until the session\'s window ends')
  t.equal(refreshCookieOf(over), null, 'no new refresh token')
  t.match(events.take('moderation.limited'), [{ limiter: 'refresh', ip: A }])
  t.same(events.take('moderation.violation'), [], 'a valid session is not scored (banInterval 1 would have banned at once)')
  t.same(events.take('ban.created'), [])
  t.equal((await refresh(app, C, busy)).statusCode, 429, 'counted per session: another address does not help it')
  t.equal((await refresh(app, A, neighbour)).statusCode, 200, 'another session behind the same address refreshes')

  clock.advance(30 * SECOND)
  t.equal((await refresh(app, A, busy)).statusCode, 200, 'once the window is over the session refreshes again')
})

t.test('invalid cookies count per named session, or per address without one, and score against the address', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: NO_BANS, limits: limits({ refresh: { max: 3, windowMs: MINUTE } }) } })
  await aliceFrom(app, B)
  events.all.length = 0
  const ghost = `ghostsession.${'x'.repeat(43)}`

  for (let n = 1; n <= 3; n++) t.equal(errorOf(await refresh(app, A, ghost)).code, 'FST_LCAUTH_REFRESH_INVALID', `unknown session #${n}: answered`)
  const over = await refresh(app, A, ghost)
  t.equal(over.statusCode, 429, 'the unknown session is over its limit')
  t.equal(over.headers['retry-after'], '60')
  t.match(events.take('moderation.violation'), [{ type: 'refresh', subject: { kind: 'ip', id: A }, total: 1 }], 'scored against the address')
  t.equal((await refresh(app, A, `another.${'x'.repeat(43)}`)).statusCode, 401, 'another session id has its own count')

  for (let n = 1; n <= 3; n++) t.equal((await refresh(app, C, null)).statusCode, 401, `no cookie #${n}`)
  for (const garbage of [null, 'not a refresh token']) {
    const response = await refresh(app, C, garbage)
    t.equal(response.statusCode, 429, 'without a readable cookie the request counts under its address')
  }
  t.match(events.take('moderation.violation'), [{ type: 'refresh', subject: { kind: 'ip', id: C }, total: 1 }, { subject: { kind: 'ip', id: C }, total: 2 }])
  t.equal(events.take('refresh.failure').length, 7, 'the refused requests never reached the handler')
})

t.test('REFRESH_IP_MAX: the per-address ceiling still applies; only invalid cookies over it are scored', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: NO_BANS, limits: limits({ refreshIp: { max: 5, windowMs: MINUTE } }) } })
  const cookies: string[] = []
  for (let n = 0; n < 6; n++) cookies.push(await member(app, n, A))
  events.all.length = 0

  for (let n = 0; n < 5; n++) t.equal((await refresh(app, A, cookies[n] ?? null)).statusCode, 200, `session ${n + 1}`)
  const over = await refresh(app, A, cookies[5] ?? null)
  t.equal(over.statusCode, 429, 'the sixth refresh from the address, a valid session\'s')
  t.equal(errorOf(over).code, 'FST_LCAUTH_RATE_LIMITED')
  t.equal(over.headers['retry-after'], '60')
  t.match(events.take('moderation.limited'), [{ limiter: 'refreshIp', ip: A }])
  t.same(events.take('moderation.violation'), [], 'a valid session over the ceiling is refused, not scored')

  const forged = await refresh(app, A, `forged.${'x'.repeat(43)}`)
  t.equal(forged.statusCode, 429)
  t.match(events.take('moderation.violation'), [{ type: 'refresh', subject: { kind: 'ip', id: A }, total: 1 }], 'an invalid one over the ceiling is')
  t.equal((await refresh(app, C, cookies[5] ?? null)).statusCode, 200, 'the same session from another address is under that address\'s ceiling')
})
