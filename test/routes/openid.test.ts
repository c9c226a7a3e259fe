import t from 'tap'
import { alice, register } from '../helpers/app.ts'
import { type Misbehaviour, type OidcStandIn, startOidcProvider } from '../helpers/oidc-provider.ts'
import { openidApp, openidSignIn, refreshed } from '../helpers/openid.ts'
import { FAILED, finish, flowCookieOf, SIGNED_IN } from '../helpers/social.ts'

// OpenID Connect against a real provider (oidc-provider on loopback), driven through its own login
// and consent pages: sign-in, registration, role rules, linking, hostile answers (OA-03, OA-04).

async function provider (t: { teardown(fn: () => unknown): void }, options: Parameters<typeof startOidcProvider>[0] = {}): Promise<OidcStandIn> {
  const p = await startOidcProvider(options)
  t.teardown(() => p.close())
  return p
}

t.test('the first sign-in creates a USER keyed by (issuer, sub); the hand-off is the refresh cookie', async t => {
  const p = await provider(t)
  const { app, events } = await openidApp(t, p)
  const round = await openidSignIn(app, p)
  t.equal(round.callback.headers.location, SIGNED_IN)
  const session = await refreshed(app, round.refresh)
  t.match(session?.user, { email: 'ada@example.test', provider: 'openid', role: 'USER', emailVerified: true, name: 'Ada Lovelace', username: 'ada' })
  const [identity] = await app.lcauth.storage.identities.listByUser(String(session?.user.id))
  t.match(identity, { provider: 'openid', issuer: p.issuer, subject: p.account.sub, emailVerified: true })
  t.match(events.take('login.success'), [{ provider: 'openid' }])

  const authorize = new URL(String(round.start.headers.location))
  t.equal(authorize.searchParams.get('code_challenge_method'), 'S256')
  t.match(authorize.searchParams.get('nonce'), /^[\w-]{43}$/)
  t.equal(authorize.searchParams.get('redirect_uri'), 'http://127.0.0.1:3080/oauth/openid/callback')
  t.equal(authorize.searchParams.get('scope'), 'openid profile email')

  // A changed email at the provider: still the same user.
  p.account = { ...p.account, claims: { ...p.account.claims, email: 'ada.new@example.test' } }
  const again = await openidSignIn(app, p)
  t.equal((await refreshed(app, again.refresh))?.user.id, session?.user.id)
})

t.test('registration off: no account, the generic failure (REG-05); a local account with an unverified email is not taken over', async t => {
  const p = await provider(t)
  const closed = await openidApp(t, p, {}, { allowSocialRegistration: false })
  t.equal((await openidSignIn(closed.app, p)).callback.headers.location, FAILED)
  t.match(closed.events.take('oauth.failure'), [{ provider: 'openid', reason: 'registration_disabled' }])
  t.equal(await closed.app.lcauth.storage.users.findByEmail('ada@example.test'), null)

  const open = await openidApp(t, p)
  await register(open.app, { ...alice, email: 'ada@example.test' })
  t.equal((await openidSignIn(open.app, p)).callback.headers.location, FAILED)
  t.match(open.events.take('oauth.link_refused'), [{ provider: 'openid', reason: 'account_unverified' }])
  t.same(await open.app.lcauth.storage.identities.listByUser((await open.app.lcauth.storage.users.findByEmail('ada@example.test'))!.id), [])
})

t.test('the required role, read from each kind of token', async t => {
  const p = await provider(t)
  const cases = [
    { kind: 'id' as const, path: 'roles', held: 'librechat-user' },
    { kind: 'access' as const, path: 'roles', held: 'librechat-user' },
    { kind: 'userinfo' as const, path: 'groups', held: 'engineering' }
  ]
  for (const c of cases) {
    const allowed = await openidApp(t, p, { requiredRole: ['someone-else', c.held], requiredRoleParameterPath: c.path, requiredRoleTokenKind: c.kind })
    t.equal((await openidSignIn(allowed.app, p)).callback.headers.location, SIGNED_IN, `${c.kind}: role present`)
    const refused = await openidApp(t, p, { requiredRole: ['chat-only'], requiredRoleParameterPath: c.path, requiredRoleTokenKind: c.kind })
    t.equal((await openidSignIn(refused.app, p)).callback.headers.location, FAILED, `${c.kind}: role absent`)
    t.match(refused.events.take('oauth.failure'), [{ reason: 'role_missing' }])
    t.equal(await refused.app.lcauth.storage.users.findByEmail('ada@example.test'), null)
  }
})

t.test('an opaque access token when roles are read from it: the generic failure and an error log naming the variable', async t => {
  const p = await provider(t)
  const { app, events, logs } = await openidApp(t, p, { requiredRole: ['librechat-user'], requiredRoleParameterPath: 'roles', requiredRoleTokenKind: 'access' })
  p.misbehave = 'access-token-opaque'
  const round = await openidSignIn(app, p)
  t.equal(round.callback.statusCode, 302)
  t.equal(round.callback.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'role_unreadable' }])
  t.match(logs.find(l => l.event === 'lcauth.openid_role_unreadable'), { level: 50, variable: /^OPENID_REQUIRED_ROLE_TOKEN_KIND/ })
})

t.test('the admin role grants ADMIN, and its loss demotes the user and ends their sessions', async t => {
  const p = await provider(t)
  p.account = { ...p.account, claims: { ...p.account.claims, roles: ['librechat-user', 'librechat-admin'] } }
  const { app, events } = await openidApp(t, p, { adminRole: 'librechat-admin', adminRoleParameterPath: 'roles' })
  const first = await openidSignIn(app, p)
  const admin = await refreshed(app, first.refresh)
  t.equal(admin?.user.role, 'ADMIN')
  const oldToken = admin?.token as string
  t.match(events.take('user.role_changed'), [{ role: 'ADMIN' }])

  p.account = { ...p.account, claims: { ...p.account.claims, roles: ['librechat-user'] } }
  const second = await openidSignIn(app, p)
  t.equal(second.callback.headers.location, SIGNED_IN)
  t.equal((await refreshed(app, second.refresh))?.user.role, 'USER')
  t.match(events.take('user.role_changed'), [{ role: 'USER' }])
  t.equal((await app.inject({ method: 'GET', url: '/api/user', headers: { authorization: `Bearer ${oldToken}` } })).statusCode, 401, 'the ADMIN access token died with its session')
})

t.test('hostile answers all end in the generic failure, with nothing created (OA-03, OA-04)', async t => {
  const modes: Array<NonNullable<Misbehaviour>> = ['wrong-issuer', 'wrong-audience', 'extra-audience', 'bad-nonce', 'no-nonce', 'expired', 'iat-week-old', 'alg-none', 'bad-signature', 'hs256-client-secret', 'userinfo-other-sub']
  const p = await provider(t)
  const { app, events } = await openidApp(t, p)
  for (const mode of modes) {
    p.misbehave = mode
    const round = await openidSignIn(app, p)
    t.equal(round.callback.headers.location, FAILED, mode)
    t.equal(round.refresh, null, `${mode}: no session`)
  }
  p.misbehave = null
  t.same(events.take('oauth.failure').map(e => e.reason), modes.map(() => 'provider_error'))
  t.equal(await app.lcauth.storage.users.findByEmail('ada@example.test'), null, 'nothing was created')

  // Discovery that names another issuer than the one configured: never trusted.
  const liar = await provider(t)
  liar.misbehave = 'discovery-issuer-mismatch'
  const fooled = await openidApp(t, liar)
  const start = await fooled.app.inject({ method: 'GET', url: '/oauth/openid' })
  t.equal(start.headers.location, FAILED)
  t.match(fooled.events.take('oauth.failure'), [{ reason: 'unavailable' }])
})

t.test('a state from another browser, and a denied consent', async t => {
  const p = await provider(t)
  const { app, events } = await openidApp(t, p)
  const mine = await app.inject({ method: 'GET', url: '/oauth/openid' })
  const theirs = await app.inject({ method: 'GET', url: '/oauth/openid' })
  const callbackUrl = await p.signIn(String(mine.headers.location))
  t.equal((await finish(app, callbackUrl, flowCookieOf(theirs))).headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'state_invalid' }])
  t.equal((await openidSignIn(app, p, { deny: true })).callback.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'denied' }])
})

t.test('an issuer down at start: the app runs, OpenID fails with a log line, then works once the issuer is back', async t => {
  const p = await provider(t)
  await p.stop()
  let now = Date.now()
  const { app, events, logs } = await openidApp(t, p, {}, { now: () => new Date(now) })
  await new Promise(resolve => setTimeout(resolve, 200))
  t.match(logs.filter(l => l.event === 'lcauth.openid_issuer_unavailable'), [{ level: 40, issuer: p.issuer }], 'said at start, once')
  t.equal((await app.inject({ method: 'GET', url: '/oauth/openid' })).headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'unavailable' }])
  await p.start()
  t.equal((await app.inject({ method: 'GET', url: '/oauth/openid' })).headers.location, FAILED, 'within the retry pause, still down')
  now += 5001
  t.equal((await openidSignIn(app, p)).callback.headers.location, SIGNED_IN)
  t.match(logs.filter(l => l.event === 'lcauth.openid_issuer_recovered'), [{ level: 30 }])
  t.equal(logs.filter(l => l.event === 'lcauth.openid_issuer_unavailable').length, 1, 'one warning per outage')
})

t.test('config, the session secret, an Entra-style issuer path, and logout at the provider', async t => {
  const p = await provider(t, { issuerPath: '/tenant-id/v2.0', endSession: true })
  const { app } = await openidApp(t, p, {
    issuer: `${p.issuer}/`,
    sessionSecret: 'an OpenID session secret of 32+ bytes',
    buttonLabel: 'Company login',
    imageUrl: 'https://id.example.test/logo.svg',
    autoRedirect: true,
    useEndSessionEndpoint: true
  })
  const shown = JSON.stringify(app.lcauth.config)
  t.notOk(shown.includes(p.clientSecret) || shown.includes('an OpenID session secret'), 'fastify.lcauth.config leaves both secrets out')
  t.match((await app.inject({ method: 'GET', url: '/api/auth/config' })).json(), {
    socialLoginEnabled: true, socialLogins: ['openid'], openidLoginEnabled: true, openidLabel: 'Company login', openidImageUrl: 'https://id.example.test/logo.svg', openidAutoRedirect: true
  })
  const round = await openidSignIn(app, p)
  t.equal(round.callback.headers.location, SIGNED_IN)
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: `refreshToken=${round.refresh}` } })
  const { message, redirect } = logout.json()
  t.equal(message, 'Logged out.')
  const end = new URL(redirect)
  t.equal(`${end.origin}${end.pathname}`, `${p.issuer}/session/end`)
  t.equal(end.searchParams.get('client_id'), p.clientId)
  t.equal(end.searchParams.get('post_logout_redirect_uri'), 'http://127.0.0.1:3080/login')
  t.equal(end.searchParams.get('id_token_hint'), null, 'no ID token is kept')

  await register(app)
  const local = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } })
  const localOut = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: `refreshToken=${local.cookies.find(c => c.name === 'refreshToken')?.value}` } })
  t.same(localOut.json(), { message: 'Logged out.' }, 'a local user\'s logout stays here')
})

t.test('a verified OpenID email links to an account this system verified; explicit linking works too', async t => {
  const p = await provider(t)
  const { app, events } = await openidApp(t, p)
  await register(app, { ...alice, email: 'ada@example.test' })
  const ada = await app.lcauth.storage.users.findByEmail('ada@example.test')
  await app.lcauth.storage.users.update(ada!.id, { emailVerified: true, emailVerifiedBy: 'mail' }, new Date())
  t.equal((await openidSignIn(app, p)).callback.headers.location, SIGNED_IN)
  t.match(events.take('oauth.linked'), [{ userId: ada!.id, provider: 'openid', by: 'email' }])
})

t.test('an issuer whose name ends in a slash, one without userinfo, and one without end-session', async t => {
  const slashed = await provider(t, { issuerPath: '/application/o/chat/' })
  t.match(slashed.issuer, /\/application\/o\/chat\/$/)
  const authentik = await openidApp(t, slashed)
  t.equal((await openidSignIn(authentik.app, slashed)).callback.headers.location, SIGNED_IN)
  t.equal((await authentik.app.lcauth.storage.identities.listByUser(String((await authentik.app.lcauth.storage.users.findByEmail('ada@example.test'))?.id)))[0]?.issuer, slashed.issuer, 'the identity keeps the issuer discovery returned')

  const plain = await provider(t, { userinfo: false })
  const { app } = await openidApp(t, plain, { useEndSessionEndpoint: true })
  const round = await openidSignIn(app, plain)
  t.equal(round.callback.headers.location, SIGNED_IN, 'the ID token alone is enough')
  t.match((await refreshed(app, round.refresh))?.user, { email: 'ada@example.test', name: 'Ada Lovelace' })
  t.equal(plain.requests.filter(r => r.path === '/me').length, 0, 'no userinfo call')
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: `refreshToken=${round.refresh}` } })
  t.same(logout.json(), { message: 'Logged out.' }, 'no end-session endpoint: nothing to redirect to')
})

t.test('while the issuer is unreachable: linking answers 503, logout stays local', async t => {
  const p = await provider(t, { endSession: true })
  await p.stop()
  const { app } = await openidApp(t, p, { useEndSessionEndpoint: true })
  const { token, response } = await (await import('../helpers/app.ts')).registerAndLogin(app)
  const link = await app.inject({ method: 'POST', url: '/api/user/identities/openid', headers: { authorization: `Bearer ${token}` }, payload: { password: alice.password } })
  t.equal(link.statusCode, 503)
  t.equal(link.json().code, 'FST_LCAUTH_PROVIDER_UNAVAILABLE')
  // A user with an OpenID identity logs out while the issuer was never reached by this instance.
  const user = response.json().user
  await app.lcauth.storage.identities.create({ provider: 'openid', issuer: p.issuer, subject: 'x', userId: user.id, email: null, emailVerified: false, createdAt: new Date() })
  const out = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } })
  t.same(out.json(), { message: 'Logged out.' })
})
