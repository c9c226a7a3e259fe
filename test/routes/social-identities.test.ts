import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { memoryMailer } from '../../index.ts'
import { alice, login, register, registerAndLogin } from '../helpers/app.ts'
import { type ProviderKind, type ProviderStandIn, startProviderStandIn, type StandInUser } from '../helpers/oauth-providers.ts'
import { FAILED, finish, flowCookieOf, SIGNED_IN, signInWith, socialApp } from '../helpers/social.ts'

// Linked sign-ins: explicit linking by a signed-in user (with fresh proof), listing, unlinking (never
// the last way in), the notices, and the owner of a mailbox taking back an account someone created
// with it through a provider that never verified it.

async function standIn (t: { teardown(fn: () => unknown): void }, kind: ProviderKind, user: StandInUser): Promise<ProviderStandIn> {
  const s = await startProviderStandIn(kind, { user })
  t.teardown(() => s.close())
  return s
}

const octo: StandInUser = { subject: '583231', email: 'octo@elsewhere.test', emailVerified: true, name: 'Octo Cat', login: 'octocat' }
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** Starts a link as the signed-in user and plays the browser through the provider and our callback. */
async function link (app: FastifyInstance, s: ProviderStandIn, token: string, body: Record<string, unknown> = { password: alice.password }) {
  const started = await app.inject({ method: 'POST', url: `/api/user/identities/${s.kind}`, headers: bearer(token), payload: body })
  if (started.statusCode !== 200) return { started, callback: null }
  const callback = await finish(app, await s.consent(started.json().url), flowCookieOf(started))
  return { started, callback }
}

const refreshUser = async (app: FastifyInstance, refresh: string | null): Promise<{ id: string }> =>
  (await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })).json().user

t.test('a signed-in user links GitHub with their password, lists it, signs in with it, and unlinks it', async t => {
  const s = await standIn(t, 'github', octo)
  const mailer = memoryMailer()
  const { app, events } = await socialApp(t, [s], { mailer, allowUnverifiedEmailLogin: true })
  const { token, response } = await registerAndLogin(app)
  const aliceId = response.json().user.id

  for (const [body, code] of [[{}, 'FST_LCAUTH_WRONG_PASSWORD'], [{ password: 'not it at all' }, 'FST_LCAUTH_WRONG_PASSWORD']] as const) {
    const refused = await app.inject({ method: 'POST', url: '/api/user/identities/github', headers: bearer(token), payload: body })
    t.equal(refused.statusCode, 401)
    t.equal(refused.json().code, code)
    t.equal(flowCookieOf(refused), null, 'no flow starts without the proof')
  }
  t.equal((await app.inject({ method: 'POST', url: '/api/user/identities/github', payload: { password: alice.password } })).statusCode, 401, 'needs a bearer token')
  t.equal((await app.inject({ method: 'POST', url: '/api/user/identities/gitlab', headers: bearer(token), payload: { password: alice.password } })).json().code, 'FST_LCAUTH_NOT_FOUND')
  const crossSite = await app.inject({ method: 'POST', url: '/api/user/identities/github', headers: { ...bearer(token), origin: 'https://evil.test' }, payload: { password: alice.password } })
  t.equal(crossSite.json().code, 'FST_LCAUTH_CROSS_SITE')

  const { started, callback } = await link(app, s, token)
  t.equal(started.statusCode, 200)
  t.match(started.json().url, /^http:\/\/127\.0\.0\.1:\d+\/login\/oauth\/authorize\?/)
  t.equal(callback?.headers.location, 'http://127.0.0.1:3080/?linked=github')
  t.equal(callback?.cookies.find(c => c.name === 'refreshToken'), undefined, 'linking starts no session')
  t.match(events.take('oauth.linked'), [{ userId: aliceId, provider: 'github', by: 'user' }])

  const listed = await app.inject({ method: 'GET', url: '/api/user/identities', headers: bearer(token) })
  t.match(listed.json(), [{ provider: 'github', email: 'octo@elsewhere.test', emailVerified: true }])

  // GitHub's address differs from the account's: the identity, not the email, signs Alice in.
  const round = await signInWith(app, s)
  t.equal(round.callback.headers.location, SIGNED_IN)
  t.equal((await refreshUser(app, round.refresh)).id, aliceId)

  // Linking the same identity again is a no-op.
  t.equal((await link(app, s, token)).callback?.headers.location, 'http://127.0.0.1:3080/?linked=github')
  t.same(events.take('oauth.linked'), [])

  const unlinked = await app.inject({ method: 'DELETE', url: '/api/user/identities/github', headers: bearer(token) })
  t.equal(unlinked.statusCode, 204)
  t.match(events.take('oauth.unlinked'), [{ userId: aliceId, provider: 'github', reason: 'user' }])
  t.same((await app.inject({ method: 'GET', url: '/api/user/identities', headers: bearer(token) })).json(), [])
  t.equal((await app.inject({ method: 'DELETE', url: '/api/user/identities/github', headers: bearer(token) })).json().code, 'FST_LCAUTH_NOT_FOUND')

  await app.lcauth.mail?.idle()
  const notices = mailer.outbox.filter(m => /sign-in was/.test(m.subject))
  t.match(notices.map(m => [m.to, m.subject]), [
    [{ address: alice.email }, /A github sign-in was added to your LibreChat account/],
    [{ address: alice.email }, /A github sign-in was removed from your LibreChat account/]
  ])
})

t.test('an identity already tied to another account cannot be linked', async t => {
  const s = await standIn(t, 'github', octo)
  const { app, events } = await socialApp(t, [s])
  await signInWith(app, s) // Octo's own account
  const { token } = await registerAndLogin(app)
  t.equal((await link(app, s, token)).callback?.headers.location, 'http://127.0.0.1:3080/?error=link_failed')
  t.match(events.take('oauth.failure'), [{ provider: 'github', reason: 'identity_taken' }])
})

t.test('a social-only account proves itself with a fresh session; it can never unlink its last way in', async t => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const github = await standIn(t, 'github', octo)
  const discord = await standIn(t, 'discord', { subject: '8035', email: 'octo@elsewhere.test', emailVerified: true, name: 'Octo' })
  const { app } = await socialApp(t, [github, discord], { now: () => new Date(now) })
  const first = await signInWith(app, github)
  const { token } = (await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${first.refresh}` } })).json()

  const last = await app.inject({ method: 'DELETE', url: '/api/user/identities/github', headers: bearer(token) })
  t.equal(last.statusCode, 409)
  t.equal(last.json().code, 'FST_LCAUTH_LAST_SIGN_IN_METHOD')

  now += 5 * 60_000 + 1
  // The access token is still valid (15 minutes), but the session behind it started too long ago.
  const refused = await app.inject({ method: 'POST', url: '/api/user/identities/discord', headers: bearer(token) })
  t.equal(refused.json().code, 'FST_LCAUTH_REAUTHENTICATION_REQUIRED', 'a session older than five minutes is no proof')

  const fresh = await signInWith(app, github)
  const freshToken = (await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${fresh.refresh}` } })).json().token
  t.equal((await link(app, discord, freshToken, {})).callback?.headers.location, 'http://127.0.0.1:3080/?linked=discord')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/user/identities/github', headers: bearer(freshToken) })).statusCode, 204, 'discord is still a way in')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/user/identities/discord', headers: bearer(freshToken) })).statusCode, 409)
})

t.test('the mailbox owner takes back an account created through a provider that never verified the email', async t => {
  const facebook = await standIn(t, 'facebook', { subject: '10158', email: alice.email, emailVerified: false, name: 'Not Alice' })
  const mailer = memoryMailer()
  const { app, events } = await socialApp(t, [facebook], { mailer })
  // The squatter signs up through Facebook with Alice's address (Facebook vouches for nothing).
  const squat = await signInWith(app, facebook)
  t.equal(squat.callback.headers.location, SIGNED_IN)
  const account = await app.lcauth.storage.users.findByEmail(alice.email)
  t.match(account, { provider: 'facebook', emailVerified: false, emailVerifiedBy: null })

  // Alice cannot register (the answer does not say why) and resets the password from her mailbox.
  t.equal((await register(app)).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email: alice.email } })).statusCode, 200)
  await app.lcauth.mail?.idle()
  const resetMail = mailer.outbox.findLast(m => /reset-password\?/.test(m.text))
  const link = new URL(/http\S+reset-password\S+/.exec(resetMail?.text ?? '')?.[0] as string)
  const done = await app.inject({
    method: 'POST',
    url: '/api/auth/resetPassword',
    payload: { token: link.searchParams.get('token'), userId: link.searchParams.get('userId'), password: 'mine again, for good', confirm_password: 'mine again, for good' }
  })
  t.equal(done.statusCode, 200)
  t.match(events.take('oauth.unlinked'), [{ userId: account!.id, provider: 'facebook', reason: 'password_reset' }])
  t.same(await app.lcauth.storage.identities.listByUser(account!.id), [])

  // The squatter's Facebook sign-in no longer opens the account, and cannot link back to it.
  t.equal((await signInWith(app, facebook)).callback.headers.location, FAILED)
  t.match(events.take('oauth.link_refused'), [{ userId: account!.id, reason: 'provider_unverified' }])
  t.equal((await login(app, alice.email, 'mine again, for good')).statusCode, 200, 'Alice is in with her own password')
})

t.test('a password is no way in while email login is off: the only linked sign-in cannot be unlinked', async t => {
  const s = await standIn(t, 'github', octo)
  const { app } = await socialApp(t, [s], { allowEmailLogin: false })
  // Alice has a password (set by the operator), but it cannot sign her in here.
  const owner = await app.lcauth.admin.createUser({ email: alice.email, name: 'Alice', password: alice.password, verified: true }, { ip: null, userAgent: null, requestId: null })
  await app.lcauth.storage.identities.create({ provider: 'github', issuer: 'github', subject: octo.subject, userId: owner.id, email: null, emailVerified: false, createdAt: new Date() })
  const round = await signInWith(app, s)
  const { token } = (await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${round.refresh}` } })).json()
  const refused = await app.inject({ method: 'DELETE', url: '/api/user/identities/github', headers: bearer(token) })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'FST_LCAUTH_LAST_SIGN_IN_METHOD')
})
