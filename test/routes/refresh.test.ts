import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { alice, build, login, REFRESH_SECRET, refreshCookieOf, registerAndLogin } from '../helpers/app.ts'
import { manualClock, sidOf } from '../helpers/doubles.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }
type Cookie = LightMyRequestResponse['cookies'][number]

const SECOND = 1000
const DAY = 86_400_000
const REUSE_INTERVAL = 10 * SECOND

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()

function refresh (app: FastifyInstance, token: string | null): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/refresh', ...(token === null ? {} : { cookies: { refreshToken: token } }) })
}

const sessionIdOfToken = (token: string): string => token.split('.')[0] ?? ''

const refreshCookies = (response: LightMyRequestResponse): Cookie[] => response.cookies.filter(c => c.name === 'refreshToken')

/** True when the response clears the refresh cookie (and sets no other value for it). */
function clearsCookie (response: LightMyRequestResponse): boolean {
  const cookies = refreshCookies(response)
  return cookies.length === 1 && cookies[0]?.value === '' && cookies[0]?.maxAge === 0
}

/** Refreshes and returns the successor token, failing the test on anything but 200. */
async function rotate (t: Test, app: FastifyInstance, token: string): Promise<string> {
  const response = await refresh(app, token)
  t.equal(response.statusCode, 200, 'rotation succeeds')
  const next = refreshCookieOf(response)
  if (next === null) throw new Error(`no refresh cookie: ${response.body}`)
  return next
}

const hmacOf = (token: string): string => createHmac('sha256', REFRESH_SECRET).update(token, 'utf8').digest('base64url')

t.test('RT-01: the cookie is <sessionId>.<32 random bytes>, stored only as an HMAC', async t => {
  const { app } = await build(t)
  const { refresh: token, token: access } = await registerAndLogin(app)
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token)
  t.ok(match, 'two base64url parts, the secret 43 characters')
  const [, sessionId = '', secret = ''] = match ?? []
  t.equal(Buffer.from(secret, 'base64url').length, 32, 'the secret is 32 bytes')
  t.equal(sessionId, sidOf(access), 'the id part is the session of the access token')
  t.ok(Buffer.from(sessionId, 'base64url').length >= 16, 'the session id has at least 128 bits')

  const stored = await app.lcauth.storage.sessions.findById(sessionId)
  if (stored === null) throw new Error('no stored session')
  const row = JSON.stringify(stored)
  t.notOk(row.includes(secret), 'the row does not contain the secret')
  t.notOk(row.includes(token), 'the row does not contain the token')
  for (const algorithm of ['sha256', 'sha1', 'md5'] as const) {
    for (const value of [token, secret]) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        const digest = createHash(algorithm).update(value).digest(encoding)
        t.notOk(row.includes(digest), `no plain ${algorithm} (${encoding}) of the ${value === token ? 'token' : 'secret'}`)
      }
    }
  }
  t.equal(stored.refreshTokenHash, hmacOf(token), 'the stored hash is the HMAC-SHA256 keyed by the refresh secret')
  t.not(stored.refreshTokenHash, createHmac('sha256', 'some other key').update(token).digest('base64url'))

  const other = await registerAndLogin(app, { ...alice, email: 'bob@example.test' })
  t.not(other.refresh.split('.')[1], secret, 'secrets differ between sessions')
})

t.test('RT-02: every refresh rotates; the old token stops working', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now })
  const { refresh: rt1, token: access1 } = await registerAndLogin(app)
  events.all.length = 0
  // Access tokens are deterministic JWTs with second-resolution iat: a new one needs a new second.
  clock.advance(SECOND)

  const response = await refresh(app, rt1)
  t.equal(response.statusCode, 200)
  const body = response.json<{ token: unknown, user: { email: unknown } }>()
  t.type(body.token, 'string')
  t.not(body.token, access1, 'a new access token')
  t.equal(body.user.email, alice.email)
  t.equal(response.headers['cache-control'], 'no-store')
  const rt2 = refreshCookieOf(response)
  t.type(rt2, 'string')
  t.not(rt2, rt1, 'a new refresh cookie')
  t.equal(sessionIdOfToken(rt2 ?? ''), sessionIdOfToken(rt1), 'same session')
  t.match(events.take('refresh.rotated'), [{ sessionId: sessionIdOfToken(rt1), userId: String }])

  const again = await refresh(app, rt1)
  t.equal(again.statusCode, 401, 'the old token fails')
  t.equal((await refresh(app, rt2)).statusCode, 200, 'the new one works')
})

t.test('RT-03: presenting an earlier token revokes the whole session, not the user\'s other sessions', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now })
  const { refresh: rt1 } = await registerAndLogin(app)
  const rt2 = await rotate(t, app, rt1)
  clock.advance(SECOND)
  const rt3 = await rotate(t, app, rt2)
  const otherDevice = refreshCookieOf(await login(app))
  if (otherDevice === null) throw new Error('second login failed')
  events.all.length = 0

  clock.advance(REUSE_INTERVAL + SECOND)
  const reused = await refresh(app, rt1)
  t.equal(reused.statusCode, 401)
  t.equal(errorOf(reused).code, 'FST_LCAUTH_REFRESH_REUSED')
  t.ok(clearsCookie(reused), 'the cookie is cleared')
  const sessionId = sessionIdOfToken(rt1)
  t.match(events.take('refresh.reuse_detected'), [{ sessionId, userId: String, at: Date }])
  t.match(events.take('session.revoked'), [{ sessionId, reason: 'reuse' }])
  t.notOk(reused.body.includes(rt1.split('.')[1] ?? ''), 'the token is not echoed')
  const stored = await app.lcauth.storage.sessions.findById(sessionId)
  t.not(stored?.revokedAt ?? null, null, 'the session is revoked in storage')

  const current = await refresh(app, rt3)
  t.equal(current.statusCode, 401, 'the current token of the session dies too')
  t.ok(clearsCookie(current))

  const other = await refresh(app, otherDevice)
  t.equal(other.statusCode, 200, 'another session of the same user still refreshes')
})

t.test('RT-04: 50 concurrent refreshes with one token: one winner, 49 benign races, nothing revoked', async t => {
  const { app, events } = await build(t)
  const { refresh: rt1 } = await registerAndLogin(app)
  events.all.length = 0

  const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(app, rt1)))
  const winners = responses.filter(r => r.statusCode === 200)
  const losers = responses.filter(r => r.statusCode !== 200)
  t.equal(winners.length, 1, 'exactly one 200')
  t.equal(losers.length, 49)
  t.same([...new Set(losers.map(r => `${r.statusCode} ${errorOf(r).code}`))], ['401 FST_LCAUTH_REFRESH_RACE'], 'every other request is a 401 race')
  t.ok(losers.every(r => r.headers['set-cookie'] === undefined), 'no loser touches the cookie')

  const successor = winners[0] === undefined ? null : refreshCookieOf(winners[0])
  if (successor === null) throw new Error('the winner set no cookie')
  const stored = await app.lcauth.storage.sessions.findById(sessionIdOfToken(rt1))
  t.equal(stored === null ? 'missing' : stored.revokedAt, null, 'the session is not revoked')
  t.equal(stored?.refreshTokenHash, hmacOf(successor), 'the stored hash is the winner\'s successor')
  t.equal(events.take('refresh.rotated').length, 1)
  t.equal(events.take('refresh.race').length, 49)
  t.same(events.take('session.revoked'), [])
  t.same(events.take('refresh.reuse_detected'), [])

  t.equal((await refresh(app, successor)).statusCode, 200, 'the successor refreshes')
})

t.test('RT-05: the reuse interval covers only the immediately previous token', async t => {
  t.test('inside the window: the parent is a race, the grandparent is reuse', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now })
    const { refresh: rt1 } = await registerAndLogin(app)
    clock.advance(SECOND)
    const rt2 = await rotate(t, app, rt1)
    clock.advance(SECOND)
    const rt3 = await rotate(t, app, rt2)
    clock.advance(SECOND)
    events.all.length = 0
    const sessionId = sessionIdOfToken(rt1)

    const parent = await refresh(app, rt2)
    t.equal(parent.statusCode, 401)
    t.equal(errorOf(parent).code, 'FST_LCAUTH_REFRESH_RACE')
    t.equal(parent.headers['set-cookie'], undefined, 'a race leaves the cookie alone')
    t.match(events.take('refresh.race'), [{ sessionId }])
    t.same(events.take('session.revoked'), [], 'nothing revoked')
    t.equal((await app.lcauth.storage.sessions.findById(sessionId))?.revokedAt, null)

    const grandparent = await refresh(app, rt1)
    t.equal(grandparent.statusCode, 401)
    t.equal(errorOf(grandparent).code, 'FST_LCAUTH_REFRESH_REUSED', 'the grandparent is reuse even inside the window')
    t.ok(clearsCookie(grandparent))
    t.match(events.take('refresh.reuse_detected'), [{ sessionId }])
    t.match(events.take('session.revoked'), [{ sessionId, reason: 'reuse' }])
    t.equal((await refresh(app, rt3)).statusCode, 401, 'the session is over')
  })

  t.test('the parent just past the window is reuse', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now })
    const { refresh: rt1 } = await registerAndLogin(app)
    const rt2 = await rotate(t, app, rt1)
    clock.advance(SECOND)
    const rt3 = await rotate(t, app, rt2)
    events.all.length = 0
    const sessionId = sessionIdOfToken(rt1)

    clock.advance(REUSE_INTERVAL - 1)
    const inside = await refresh(app, rt2)
    t.equal(errorOf(inside).code, 'FST_LCAUTH_REFRESH_RACE', 'interval - 1 ms: still a race')
    t.same(events.take('session.revoked'), [])

    clock.advance(2)
    const outside = await refresh(app, rt2)
    t.equal(outside.statusCode, 401)
    t.equal(errorOf(outside).code, 'FST_LCAUTH_REFRESH_REUSED', 'interval + 1 ms: reuse')
    t.ok(clearsCookie(outside))
    t.match(events.take('refresh.reuse_detected'), [{ sessionId }])
    t.match(events.take('session.revoked'), [{ sessionId, reason: 'reuse' }])
    t.equal((await refresh(app, rt3)).statusCode, 401, 'the current token died with the session')
  })
})

t.test('a forged secret next to a real session id is merely invalid: nothing revoked', async t => {
  const { app, events } = await build(t)
  const { refresh: rt1 } = await registerAndLogin(app)
  events.all.length = 0
  const sessionId = sessionIdOfToken(rt1)
  const forged = `${sessionId}.${randomBytes(32).toString('base64url')}`

  const response = await refresh(app, forged)
  t.equal(response.statusCode, 401)
  t.equal(errorOf(response).code, 'FST_LCAUTH_REFRESH_INVALID')
  t.ok(clearsCookie(response), 'the presenter\'s cookie is cleared')
  t.match(events.take('refresh.failure'), [{ reason: 'token_mismatch', sessionId }])
  t.same(events.take('session.revoked'), [], 'nothing revoked')
  t.same(events.take('refresh.reuse_detected'), [])
  t.equal((await app.lcauth.storage.sessions.findById(sessionId))?.revokedAt, null)
  t.equal((await refresh(app, rt1)).statusCode, 200, 'the owner\'s cookie still works')
})

t.test('RT-06: idle and absolute expiry', async t => {
  t.test('refreshing every 6 days works until 30 days after login, then fails', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now })
    const { refresh: rt1 } = await registerAndLogin(app)
    const loginAt = clock.ms()
    const absoluteEnd = loginAt + 30 * DAY
    let token = rt1
    const checkMaxAge = (response: LightMyRequestResponse, label: string): void => {
      const cookie = refreshCookies(response)[0]
      const maxAge = cookie?.maxAge ?? Number.POSITIVE_INFINITY
      t.ok(maxAge <= (absoluteEnd - clock.ms()) / 1000, `${label}: Max-Age ${maxAge} within the remaining absolute life`)
      t.ok(maxAge <= 7 * DAY / 1000, `${label}: Max-Age ${maxAge} within 7 days`)
    }
    checkMaxAge(await login(app), 'login')
    for (const day of [6, 12, 18, 24]) {
      clock.advance(6 * DAY)
      const response = await refresh(app, token)
      t.equal(response.statusCode, 200, `day ${day}: 200`)
      checkMaxAge(response, `day ${day}`)
      token = refreshCookieOf(response) ?? ''
    }
    clock.advance(6 * DAY - SECOND)
    const last = await refresh(app, token)
    t.equal(last.statusCode, 200, '30 days minus 1 s: still 200')
    checkMaxAge(last, '30 d - 1 s')
    t.equal(refreshCookies(last)[0]?.maxAge, 1, 'the last cookie lives exactly as long as the session')
    token = refreshCookieOf(last) ?? ''
    events.all.length = 0

    clock.advance(SECOND)
    const expired = await refresh(app, token)
    t.equal(expired.statusCode, 401, '30 days after login: 401, rotation did not extend the absolute limit')
    t.equal(errorOf(expired).code, 'FST_LCAUTH_REFRESH_INVALID')
    t.ok(clearsCookie(expired))
    t.match(events.take('refresh.failure'), [{ reason: 'not_live', sessionId: sessionIdOfToken(rt1) }])
  })

  t.test('7 days and 1 second without a refresh: 401', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now })
    const { refresh: idle, response } = await registerAndLogin(app)
    t.equal(refreshCookies(response)[0]?.maxAge, 7 * DAY / 1000, 'the first cookie lives the sliding 7 days')
    const control = refreshCookieOf(await login(app))
    if (control === null) throw new Error('second login failed')

    clock.advance(7 * DAY - SECOND)
    t.equal((await refresh(app, control)).statusCode, 200, 'control: 7 d - 1 s is still inside the idle window')
    clock.advance(2 * SECOND)
    events.all.length = 0
    const expired = await refresh(app, idle)
    t.equal(expired.statusCode, 401, '7 d + 1 s idle: 401')
    t.equal(errorOf(expired).code, 'FST_LCAUTH_REFRESH_INVALID')
    t.ok(clearsCookie(expired))
    t.match(events.take('refresh.failure'), [{ reason: 'not_live' }])
  })
})

t.test('RT-07: a disabled or deleted user\'s refresh token fails', async t => {
  t.test('disabled: 401, session revoked, cookie cleared', async t => {
    const { app, events } = await build(t)
    const { refresh: rt1 } = await registerAndLogin(app)
    const user = await app.lcauth.storage.users.findByEmail(alice.email)
    if (user === null) throw new Error('no user')
    await app.lcauth.storage.users.update(user.id, { disabledAt: new Date() }, new Date())
    events.all.length = 0

    const response = await refresh(app, rt1)
    t.equal(response.statusCode, 401)
    t.equal(errorOf(response).code, 'FST_LCAUTH_REFRESH_INVALID')
    t.ok(clearsCookie(response), 'the cookie is cleared and no new one is set')
    t.notOk(response.body.includes('token'), 'no access token in the body')
    const sessionId = sessionIdOfToken(rt1)
    t.not((await app.lcauth.storage.sessions.findById(sessionId))?.revokedAt ?? null, null, 'the session is revoked')
    t.match(events.take('session.revoked'), [{ sessionId, userId: user.id, reason: 'user_state' }])
    t.match(events.take('refresh.failure'), [{ reason: 'user_disabled', userId: user.id }])
    t.same(events.take('refresh.rotated'), [])

    await app.lcauth.storage.users.update(user.id, { disabledAt: null }, new Date())
    t.equal((await refresh(app, rt1)).statusCode, 401, 're-enabling the user does not revive the session')
  })

  t.test('deleted: 401, cookie cleared', async t => {
    const { app, events } = await build(t)
    const { refresh: rt1 } = await registerAndLogin(app)
    const user = await app.lcauth.storage.users.findByEmail(alice.email)
    if (user === null) throw new Error('no user')
    await app.lcauth.storage.users.delete(user.id, new Date())
    events.all.length = 0

    const response = await refresh(app, rt1)
    t.equal(response.statusCode, 401)
    t.equal(errorOf(response).code, 'FST_LCAUTH_REFRESH_INVALID')
    t.ok(clearsCookie(response))
    t.same(events.take('refresh.rotated'), [])
    t.equal(events.take('refresh.failure').length, 1)
  })
})

t.test('LOG-05: a login that presents a valid refresh cookie starts a new session and ends the old one', async t => {
  const { app, events } = await build(t)
  const { refresh: rt1, token: access1 } = await registerAndLogin(app)
  events.all.length = 0

  const response = await login(app, alice.email, alice.password, { cookie: `refreshToken=${rt1}` })
  t.equal(response.statusCode, 200)
  const rt2 = refreshCookieOf(response)
  if (rt2 === null) throw new Error('no cookie')
  const access2 = response.json<{ token: string }>().token
  t.not(sidOf(access2), sidOf(access1), 'a different sid claim')
  t.not(rt2, rt1, 'a different cookie')
  t.not(sessionIdOfToken(rt2), sessionIdOfToken(rt1), 'a different session id in the cookie')
  t.equal(sessionIdOfToken(rt2), sidOf(access2))
  t.match(events.take('session.revoked'), [{ sessionId: sessionIdOfToken(rt1), reason: 'login_replaced' }])
  t.match(events.take('login.success'), [{ sessionId: sidOf(access2) }])

  const old = await refresh(app, rt1)
  t.equal(old.statusCode, 401, 'the presented cookie no longer refreshes')
  t.equal((await refresh(app, rt2)).statusCode, 200, 'the new one does')
})

t.test('a missing or malformed cookie: 401 FST_LCAUTH_REFRESH_INVALID, cookie cleared', async t => {
  const { app, events } = await build(t)
  await registerAndLogin(app)
  events.all.length = 0
  const cases: ReadonlyArray<readonly [string, string | null, string]> = [
    ['missing', null, 'missing'],
    ['abc', 'abc', 'malformed'],
    ['a.b.c', 'a.b.c', 'malformed'],
    ['300 characters', `${'a'.repeat(150)}.${'b'.repeat(149)}`, 'malformed']
  ]
  for (const [label, cookie, reason] of cases) {
    const response = await refresh(app, cookie)
    t.equal(response.statusCode, 401, `${label}: 401`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_REFRESH_INVALID', `${label}: code`)
    t.ok(clearsCookie(response), `${label}: cookie cleared`)
    t.match(events.take('refresh.failure'), [{ reason, sessionId: null }], `${label}: event`)
  }
  t.same(events.take('session.revoked'), [])
})
