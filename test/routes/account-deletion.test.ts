import t from 'tap'
import { alice, build, refreshCookieOf, registerAndLogin } from '../helpers/app.ts'

const del = (token: string, payload?: unknown, headers: Record<string, string> = {}) => ({
  method: 'DELETE' as const,
  url: '/api/user/delete',
  headers: { authorization: `Bearer ${token}`, ...headers },
  ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> })
})

t.test('SES-03: deleting your account needs the password and removes everything tied to it', async t => {
  const { app, events } = await build(t)
  const { token, refresh } = await registerAndLogin(app)
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  await app.lcauth.storage.oneTimeTokens.create({ purpose: 'password_reset', tokenHash: 'h', userId: user?.id as string, email: alice.email, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) })
  const other = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } })

  const wrong = await app.inject(del(token, { password: 'not the password' }))
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'FST_LCAUTH_WRONG_PASSWORD')
  t.equal((await app.inject(del(token))).json().code, 'FST_LCAUTH_WRONG_PASSWORD', 'a password account must give its password')
  t.equal((await app.inject(del(token, { password: alice.password, extra: 1 }))).statusCode, 400)
  t.equal((await app.inject(del(token, { password: alice.password }, { origin: 'https://evil.test' }))).statusCode, 403)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/user/delete', payload: { password: alice.password } })).statusCode, 401)

  const done = await app.inject(del(token, { password: alice.password }))
  t.equal(done.statusCode, 200)
  t.match(done.json(), { message: /deleted/ })
  t.match(done.headers['set-cookie'], /Max-Age=0/)
  t.equal(await app.lcauth.storage.users.findByEmail(alice.email), null)
  t.equal(await app.lcauth.storage.oneTimeTokens.consume('password_reset', 'h', new Date()), null)
  t.equal((await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 401, 'the access token died with the account')
  for (const cookie of [refresh, refreshCookieOf(other) as string]) {
    t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${cookie}` } })).statusCode, 401)
  }
  t.match(events.take('user.deleted'), [{ userId: user?.id, by: 'self' }])
  t.equal(events.take('session.revoked').length, 2)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } })).statusCode, 401)
})

t.test('an account without a password needs a session from the last five minutes', async t => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const { app } = await build(t, { now: () => new Date(now) })
  const created = await app.lcauth.storage.users.create({ email: 'social@example.test', name: 'Social User', username: null, provider: 'google', emailVerified: true, passwordHash: null }, new Date(now))
  const user = created as NonNullable<typeof created>
  const issue = async (): Promise<string> => {
    // Sessions of social accounts start through the OAuth routes; here through the same service.
    const issued = await app.lcauth.sessions.start(user, { ip: null, userAgent: null, requestId: null }, null)
    const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${issued.refreshToken}` } })
    return refreshed.json().token as string
  }
  const stale = await issue()
  now += 6 * 60_000
  const tooOld = await app.inject(del(stale))
  t.equal(tooOld.statusCode, 401)
  t.equal(tooOld.json().code, 'FST_LCAUTH_REAUTHENTICATION_REQUIRED')
  const fresh = await issue()
  t.equal((await app.inject(del(fresh))).statusCode, 200)
  t.equal(await app.lcauth.storage.users.findById(user.id), null)
})

t.test('ALLOW_ACCOUNT_DELETION=false refuses with 403', async t => {
  const { app } = await build(t, { allowAccountDeletion: false })
  const { token } = await registerAndLogin(app)
  const refused = await app.inject(del(token, { password: alice.password }))
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'FST_LCAUTH_ACCOUNT_DELETION_DISABLED')
  t.ok(await app.lcauth.storage.users.findByEmail(alice.email))
})

t.test('a token of a user already deleted elsewhere is refused', async t => {
  const { app } = await build(t)
  const { token } = await registerAndLogin(app)
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  // Deleted straight in storage, as another process could; this instance has not polled yet.
  await app.lcauth.storage.users.delete(user?.id as string, new Date())
  const r = await app.inject(del(token, { password: alice.password }))
  t.equal(r.statusCode, 401)
})

t.test('the delete body is optional: none, an empty body or {} pass on to the password check; anything else is a 400 before it', async t => {
  const { app } = await build(t)
  const { token } = await registerAndLogin(app)
  const raw = (payload: string | undefined, type?: string) => app.inject({
    method: 'DELETE',
    url: '/api/user/delete',
    headers: { authorization: `Bearer ${token}`, ...(type === undefined ? {} : { 'content-type': type }) },
    ...(payload === undefined ? {} : { payload })
  })
  for (const [label, payload, type] of [['no body', undefined, undefined], ['an empty JSON body', '', 'application/json'], ['{}', '{}', 'application/json']] as const) {
    const response = await raw(payload, type)
    t.equal(response.json().code, 'FST_LCAUTH_WRONG_PASSWORD', `${label} reaches the password check`)
  }
  for (const [payload, message] of [
    ['{"password":"x","extra":1}', 'body must NOT have additional properties'],
    ['{"pass":"x"}', 'body must NOT have additional properties'],
    ['{"password":12345678}', 'body/password must be string'],
    ['null', 'body must be object'],
    ['[]', 'body must be object'],
    ['"x"', 'body must be object']
  ] as const) {
    const response = await raw(payload, 'application/json')
    t.equal(response.statusCode, 400, payload)
    t.same(response.json(), { statusCode: 400, code: 'FST_LCAUTH_VALIDATION', error: 'Bad Request', message }, payload)
  }
  t.equal((await raw('password=x', 'application/x-www-form-urlencoded')).statusCode, 415)
  t.ok(await app.lcauth.storage.users.findByEmail(alice.email), 'nothing was deleted')
  t.equal((await raw(JSON.stringify({ password: alice.password }), 'application/json')).statusCode, 200)
})
