import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { bcryptHasher, type PasswordHasher } from '../../index.ts'
import { alice, build, login, refreshCookieOf, register, registerAndLogin } from '../helpers/app.ts'
import { manualClock, sidOf } from '../helpers/doubles.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }
interface SessionView { id: string, createdAt: string, lastUsedAt: string, userAgent: string | null, ip: string | null, current: boolean }
type Cookie = LightMyRequestResponse['cookies'][number]

const SECOND = 1000
const NEW_PASSWORD = 'a brand new passphrase 42'

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

function refresh (app: FastifyInstance, token: string, name = 'refreshToken'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { [name]: token } })
}

function protectedRoute (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/api/protected', headers: auth(token) })
}

function changePassword (app: FastifyInstance, token: string | null, payload: Record<string, unknown>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/password', payload, headers: { ...(token === null ? {} : auth(token)), ...headers } })
}

/** One more session of alice: its access token and refresh cookie. */
async function another (app: FastifyInstance, headers: Record<string, string> = {}): Promise<{ token: string, refresh: string }> {
  const response = await login(app, alice.email, alice.password, headers)
  const cookie = refreshCookieOf(response)
  if (response.statusCode !== 200 || cookie === null) throw new Error(`login failed: ${response.body}`)
  return { token: response.json<{ token: string }>().token, refresh: cookie }
}

const refreshCookies = (response: LightMyRequestResponse): Cookie[] => response.cookies.filter(c => c.name === 'refreshToken' || c.name === '__Host-refreshToken')

/** True when the response clears the refresh cookie (and sets no other value for it). */
function clearsCookie (response: LightMyRequestResponse): boolean {
  const cookies = refreshCookies(response)
  return cookies.length === 1 && cookies[0]?.value === '' && cookies[0]?.maxAge === 0
}

t.test('GET /api/auth/sessions lists the user\'s sessions, exactly one current', async t => {
  const { app } = await build(t)
  const first = await registerAndLogin(app)
  const second = await another(app, { 'user-agent': 'Phone/1.0' })
  const bob = await registerAndLogin(app, { ...alice, email: 'bob@example.test' })

  const response = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: auth(second.token) })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const list: unknown = response.json()
  t.ok(Array.isArray(list), 'a bare array')
  const sessions = list as SessionView[]
  t.equal(sessions.length, 2, 'only alice\'s sessions')
  for (const s of sessions) {
    t.same(Object.keys(s).sort(), ['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent'], 'exactly the documented fields')
    t.ok(!Number.isNaN(Date.parse(s.createdAt)) && !Number.isNaN(Date.parse(s.lastUsedAt)), 'ISO dates')
  }
  t.same(sessions.map(s => s.id).sort(), [sidOf(first.token), sidOf(second.token)].sort())
  t.notOk(sessions.some(s => s.id === sidOf(bob.token)), 'no other user\'s session')
  const current = sessions.filter(s => s.current)
  t.equal(current.length, 1, 'exactly one current')
  t.equal(current[0]?.id, sidOf(second.token), 'the one the token belongs to')
  t.equal(current[0]?.userAgent, 'Phone/1.0')
  t.notOk(response.body.includes(second.refresh.split('.')[1] ?? ''), 'no refresh secret in the list')

  const fromFirst = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: auth(first.token) })
  t.same(fromFirst.json<SessionView[]>().filter(s => s.current).map(s => s.id), [sidOf(first.token)], 'current follows the token')

  const anonymous = await app.inject({ method: 'GET', url: '/api/auth/sessions' })
  t.equal(anonymous.statusCode, 401)
  t.equal(errorOf(anonymous).code, 'FST_LCAUTH_UNAUTHORIZED')
})

t.test('DELETE /api/auth/sessions/:id ends one of your own sessions', async t => {
  const { app, events } = await build(t)
  const current = await registerAndLogin(app)
  const other = await another(app)
  const bob = await registerAndLogin(app, { ...alice, email: 'bob@example.test' })
  events.all.length = 0
  const otherId = sidOf(other.token)

  const deleted = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${otherId}`, headers: auth(current.token) })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  t.equal(refreshCookies(deleted).length, 0, 'ending another session leaves this cookie alone')
  t.match(events.take('session.revoked'), [{ sessionId: otherId, reason: 'user_request' }])
  t.equal((await refresh(app, other.refresh)).statusCode, 401, 'that session\'s cookie no longer refreshes')
  t.equal((await protectedRoute(app, other.token)).statusCode, 401, 'nor does its access token work')

  const again = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${otherId}`, headers: auth(current.token) })
  t.equal(again.statusCode, 404)
  t.equal(errorOf(again).code, 'FST_LCAUTH_NOT_FOUND')

  const foreign = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${sidOf(bob.token)}`, headers: auth(current.token) })
  t.equal(foreign.statusCode, 404, 'another user\'s session is not found')
  t.equal(errorOf(foreign).code, 'FST_LCAUTH_NOT_FOUND')
  t.same(events.take('session.revoked'), [])
  t.equal((await refresh(app, bob.refresh)).statusCode, 200, 'and it still works')

  const unknown = await app.inject({ method: 'DELETE', url: '/api/auth/sessions/no-such-session', headers: auth(current.token) })
  t.equal(unknown.statusCode, 404)

  const anonymous = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${sidOf(current.token)}` })
  t.equal(anonymous.statusCode, 401)

  const self = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${sidOf(current.token)}`, headers: auth(current.token) })
  t.equal(self.statusCode, 204, 'ending the current session')
  t.ok(clearsCookie(self), 'clears the cookie')
  t.match(events.take('session.revoked'), [{ sessionId: sidOf(current.token), reason: 'user_request' }])
  t.equal((await refresh(app, current.refresh)).statusCode, 401)
})

t.test('DELETE /api/auth/sessions ends every other session; ?all=true ends them all', async t => {
  t.test('without all: the current session survives', async t => {
    const { app, events } = await build(t)
    const current = await registerAndLogin(app)
    const others = [await another(app), await another(app)]
    events.all.length = 0

    const response = await app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: auth(current.token) })
    t.equal(response.statusCode, 204)
    t.equal(refreshCookies(response).length, 0, 'the current cookie is not touched')
    const revoked = events.take('session.revoked')
    t.same(revoked.map(e => e.sessionId).sort(), others.map(o => sidOf(o.token)).sort(), 'exactly the other sessions')
    t.ok(revoked.every(e => e.reason === 'user_request'))
    for (const other of others) {
      t.equal((await refresh(app, other.refresh)).statusCode, 401, 'another session\'s cookie fails')
      t.equal((await protectedRoute(app, other.token)).statusCode, 401, 'another session\'s access token fails')
    }
    t.equal((await protectedRoute(app, current.token)).statusCode, 200, 'the current access token still works')
    t.equal((await refresh(app, current.refresh)).statusCode, 200, 'the current cookie still refreshes')
  })

  t.test('?all=true: every session, cookie cleared', async t => {
    const { app, events } = await build(t)
    const current = await registerAndLogin(app)
    const other = await another(app)
    events.all.length = 0

    const response = await app.inject({ method: 'DELETE', url: '/api/auth/sessions?all=true', headers: auth(current.token) })
    t.equal(response.statusCode, 204)
    t.ok(clearsCookie(response), 'the cookie is cleared')
    t.same(events.take('session.revoked').map(e => e.sessionId).sort(), [sidOf(current.token), sidOf(other.token)].sort())
    for (const s of [current, other]) {
      t.equal((await refresh(app, s.refresh)).statusCode, 401)
      t.equal((await protectedRoute(app, s.token)).statusCode, 401)
    }
  })

  t.test('bad query: 400, nothing revoked', async t => {
    const { app, events } = await build(t)
    const current = await registerAndLogin(app)
    const other = await another(app)
    events.all.length = 0
    for (const query of ['all=yes', 'all=1', 'extra=1', 'all=true&extra=1', 'all=true&all=true']) {
      const response = await app.inject({ method: 'DELETE', url: `/api/auth/sessions?${query}`, headers: auth(current.token) })
      t.equal(response.statusCode, 400, `?${query}: 400`)
      t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION', `?${query}: code`)
    }
    t.same(events.take('session.revoked'), [], 'nothing revoked')
    t.equal((await refresh(app, other.refresh)).statusCode, 200)
    t.equal((await refresh(app, current.refresh)).statusCode, 200)
  })
})

t.test('SES-01: logout really revokes', async t => {
  t.test('with the cookie: 200, cookie cleared with the same attributes, replay fails', async t => {
    const { app, events } = await build(t)
    const { refresh: rt, token, response: loginResponse } = await registerAndLogin(app)
    events.all.length = 0
    const set = refreshCookies(loginResponse)[0]

    const response = await app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { refreshToken: rt } })
    t.equal(response.statusCode, 200)
    t.type(response.json<{ message: unknown }>().message, 'string')
    t.ok(clearsCookie(response), 'cleared with Max-Age=0')
    const cleared = refreshCookies(response)[0]
    t.same(
      { name: cleared?.name, path: cleared?.path, domain: cleared?.domain, httpOnly: cleared?.httpOnly, sameSite: cleared?.sameSite, secure: cleared?.secure },
      { name: set?.name, path: set?.path, domain: set?.domain, httpOnly: set?.httpOnly, sameSite: set?.sameSite, secure: set?.secure },
      'same name and attributes as the cookie login set'
    )
    t.match(cleared, { path: '/', httpOnly: true, sameSite: 'Strict' })
    const sessionId = sidOf(token)
    t.match(events.take('session.revoked'), [{ sessionId, reason: 'logout' }])
    t.match(events.take('logout'), [{ sessionId, userId: String }])
    t.not((await app.lcauth.storage.sessions.findById(sessionId))?.revokedAt ?? null, null, 'marked revoked in storage')

    const replay = await refresh(app, rt)
    t.equal(replay.statusCode, 401, 'the old refresh token fails')

    const twice = await app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { refreshToken: rt } })
    t.equal(twice.statusCode, 200, 'a second logout is 200 too')
    t.ok(clearsCookie(twice))
    t.same(events.take('session.revoked'), [], 'nothing more to revoke')
    const bare = await app.inject({ method: 'POST', url: '/api/auth/logout' })
    t.equal(bare.statusCode, 200, 'logout with nothing at all is 200')
  })

  t.test('a Secure (__Host-) cookie is cleared under the same name and attributes', async t => {
    const { app } = await build(t, { sessionCookieSecure: true })
    await register(app)
    const loginResponse = await login(app)
    const set = refreshCookies(loginResponse)[0]
    t.equal(set?.name, '__Host-refreshToken')
    const response = await app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { '__Host-refreshToken': set?.value ?? '' } })
    t.equal(response.statusCode, 200)
    const cleared = refreshCookies(response)[0]
    t.match(cleared, { name: '__Host-refreshToken', value: '', maxAge: 0, path: '/', httpOnly: true, secure: true, sameSite: 'Strict' })
    t.equal(cleared?.domain, undefined, 'no Domain')
    t.equal((await refresh(app, set?.value ?? '', '__Host-refreshToken')).statusCode, 401)
  })

  t.test('with only a bearer token: that session is revoked', async t => {
    const { app, events } = await build(t)
    const { refresh: rt, token } = await registerAndLogin(app)
    const other = await another(app)
    events.all.length = 0

    const response = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: auth(token) })
    t.equal(response.statusCode, 200)
    t.match(events.take('session.revoked'), [{ sessionId: sidOf(token), reason: 'logout' }])
    t.equal((await refresh(app, rt)).statusCode, 401, 'its cookie no longer refreshes')
    t.equal((await protectedRoute(app, token)).statusCode, 401, 'its access token is refused')
    t.equal((await refresh(app, other.refresh)).statusCode, 200, 'the other session is untouched')
  })

  t.test('with an expired but validly signed bearer token: that session is revoked', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now })
    const { refresh: rt, token } = await registerAndLogin(app)
    clock.advance(15 * 60 * SECOND + SECOND)
    t.equal((await protectedRoute(app, token)).statusCode, 401, 'control: the access token has expired')
    events.all.length = 0

    const response = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: auth(token) })
    t.equal(response.statusCode, 200)
    t.match(events.take('session.revoked'), [{ sessionId: sidOf(token), reason: 'logout' }])
    t.equal((await refresh(app, rt)).statusCode, 401, 'the session is over')
  })

  t.test('GET /api/auth/logout is 404', async t => {
    const { app } = await build(t)
    const { refresh: rt } = await registerAndLogin(app)
    const response = await app.inject({ method: 'GET', url: '/api/auth/logout', cookies: { refreshToken: rt } })
    t.equal(response.statusCode, 404)
    t.equal(refreshCookies(response).length, 0)
    t.equal((await refresh(app, rt)).statusCode, 200, 'the session is untouched')
  })
})

t.test('SES-02 / PWD-05: changing the password', async t => {
  t.test('refusals change nothing', async t => {
    const { app, events } = await build(t)
    const { token } = await registerAndLogin(app)
    const other = await another(app)
    events.all.length = 0
    const body = { currentPassword: alice.password, password: NEW_PASSWORD, confirm_password: NEW_PASSWORD }

    const wrong = await changePassword(app, token, { ...body, currentPassword: 'not the password at all' })
    t.equal(wrong.statusCode, 401)
    t.equal(errorOf(wrong).code, 'FST_LCAUTH_WRONG_PASSWORD')
    t.match(events.take('password.change_failed'), [{ reason: 'wrong_password' }])

    const weak = await changePassword(app, token, { ...body, password: 'short1', confirm_password: 'short1' })
    t.equal(weak.statusCode, 400)
    t.equal(errorOf(weak).code, 'FST_LCAUTH_PASSWORD_POLICY')

    const common = await changePassword(app, token, { ...body, password: 'password123', confirm_password: 'password123' })
    t.equal(common.statusCode, 400, 'a common password fails the policy')
    t.equal(errorOf(common).code, 'FST_LCAUTH_PASSWORD_POLICY')

    const mismatch = await changePassword(app, token, { ...body, confirm_password: `${NEW_PASSWORD}!` })
    t.equal(mismatch.statusCode, 400)

    const missing = await changePassword(app, token, { password: NEW_PASSWORD, confirm_password: NEW_PASSWORD })
    t.equal(missing.statusCode, 400, 'the current password is required')

    const anonymous = await changePassword(app, null, body)
    t.equal(anonymous.statusCode, 401)
    t.equal(errorOf(anonymous).code, 'FST_LCAUTH_UNAUTHORIZED')

    const crossSite = await changePassword(app, token, body, { origin: 'https://evil.example' })
    t.equal(crossSite.statusCode, 403)
    t.equal(errorOf(crossSite).code, 'FST_LCAUTH_CROSS_SITE')

    t.same(events.take('password.changed'), [])
    t.same(events.take('session.revoked'), [])
    t.equal((await refresh(app, other.refresh)).statusCode, 200, 'the other session still works')
    t.equal((await login(app)).statusCode, 200, 'the old password still works')
  })

  t.test('success: every other session revoked, the current one kept, the new password works', async t => {
    const { app, events } = await build(t)
    const current = await registerAndLogin(app)
    const others = [await another(app), await another(app)]
    const user = await app.lcauth.storage.users.findByEmail(alice.email)
    events.all.length = 0

    const response = await changePassword(app, current.token, { currentPassword: alice.password, password: NEW_PASSWORD, confirm_password: NEW_PASSWORD })
    t.equal(response.statusCode, 200)
    t.type(response.json<{ message: unknown }>().message, 'string')
    t.equal(refreshCookies(response).length, 0, 'the current cookie is untouched')
    t.match(events.take('password.changed'), [{ userId: user?.id, sessionId: sidOf(current.token) }])
    const revoked = events.take('session.revoked')
    t.same(revoked.map(e => e.sessionId).sort(), others.map(o => sidOf(o.token)).sort(), 'exactly the other sessions')
    t.ok(revoked.every(e => e.reason === 'password_changed'), 'reason password_changed')
    t.notMatch(JSON.stringify(events.all), /brand new passphrase|correct horse/, 'no password in any event')

    for (const other of others) {
      t.equal((await refresh(app, other.refresh)).statusCode, 401, 'another session\'s cookie fails')
      t.equal((await protectedRoute(app, other.token)).statusCode, 401, 'another session\'s access token fails')
    }
    t.equal((await protectedRoute(app, current.token)).statusCode, 200, 'the current access token works')
    t.equal((await refresh(app, current.refresh)).statusCode, 200, 'the current cookie refreshes')

    t.equal((await login(app, alice.email, alice.password)).statusCode, 401, 'the old password fails')
    t.equal((await login(app, alice.email, NEW_PASSWORD)).statusCode, 200, 'the new one works')
  })
})

t.test('sessionMaxPerUser: a login beyond the limit ends the oldest session', async t => {
  t.test('logins at different times', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now, sessionMaxPerUser: 2 })
    const first = await registerAndLogin(app)
    clock.advance(SECOND)
    const second = await another(app)
    clock.advance(SECOND)
    events.all.length = 0
    const third = await another(app)

    t.match(events.take('session.revoked'), [{ sessionId: sidOf(first.token), reason: 'session_limit' }])
    t.same(events.take('session.revoked'), [], 'only one')
    t.equal((await refresh(app, first.refresh)).statusCode, 401, 'the oldest is over')
    t.equal((await protectedRoute(app, first.token)).statusCode, 401, 'and its access token too')
    t.equal((await refresh(app, second.refresh)).statusCode, 200, 'the second still refreshes')
    t.equal((await refresh(app, third.refresh)).statusCode, 200, 'the newest still refreshes')
  })

  t.test('logins within the same millisecond still keep the newest', async t => {
    const clock = manualClock()
    const { app, events } = await build(t, { now: clock.now, sessionMaxPerUser: 2 })
    const first = await registerAndLogin(app)
    const second = await another(app)
    events.all.length = 0
    const third = await another(app)

    t.match(events.take('session.revoked'), [{ sessionId: sidOf(first.token), reason: 'session_limit' }], 'the oldest is ended, not the one just created')
    t.equal((await refresh(app, third.refresh)).statusCode, 200, 'the newest login got a working session')
    t.equal((await refresh(app, second.refresh)).statusCode, 200, 'the second still refreshes')
    t.equal((await refresh(app, first.refresh)).statusCode, 401, 'the oldest is over')
  })
})

t.test('bounded hashing: a flood of logins sheds with 503 and Retry-After, never 500', async t => {
  // bcrypt at cost 4 plus a fixed delay, so the ten logins surely overlap.
  const inner = bcryptHasher({ rounds: 4 })
  const slow: PasswordHasher = {
    hash: password => inner.hash(password),
    async verify (password, stored) {
      await new Promise(resolve => setTimeout(resolve, 50))
      return inner.verify(password, stored)
    },
    needsRehash: stored => inner.needsRehash(stored)
  }
  const { app, events } = await build(t, { hashConcurrency: 1, hashMaxWait: 0, hasher: slow })
  // The plugin may hash at start (its dummy hash): wait until the one hash slot is free.
  let registered = await register(app)
  for (let i = 0; i < 100 && registered.statusCode === 503; i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
    registered = await register(app)
  }
  t.equal(registered.statusCode, 200, 'registration goes through once the hasher is idle')
  events.all.length = 0

  const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => login(app, alice.email, i % 2 === 0 ? alice.password : 'a wrong password here')))
  const statuses = responses.map(r => r.statusCode)
  t.ok(statuses.every(s => s === 200 || s === 401 || s === 503), `only 200, 401 and 503: ${statuses.join(' ')}`)
  t.notOk(statuses.some(s => s >= 500 && s !== 503), 'never a 500')
  const busy = responses.filter(r => r.statusCode === 503)
  t.ok(busy.length > 0, 'some are shed')
  t.ok(busy.length < responses.length, 'some get through')
  for (const response of busy) {
    t.equal(errorOf(response).code, 'FST_LCAUTH_BUSY')
    t.ok(Number(response.headers['retry-after']) >= 1, `retry-after ${String(response.headers['retry-after'])} >= 1`)
    t.equal(refreshCookies(response).length, 0)
  }
  responses.forEach((response, i) => {
    if (response.statusCode !== 503) t.equal(response.statusCode, i % 2 === 0 ? 200 : 401, `login ${i} answered normally`)
  })
  t.equal((await login(app)).statusCode, 200, 'after the flood, a login works')
})
