import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { alice, register, registerAndLogin } from '../helpers/app.ts'
import { type ProviderKind, type ProviderStandIn, startProviderStandIn, type StandInUser } from '../helpers/oauth-providers.ts'
import { FAILED, SIGNED_IN, signInWith, socialApp } from '../helpers/social.ts'

// Social sign-in end to end against real HTTP stand-ins of each provider: who is found, created,
// linked or refused, and that no path links an identity to an account through an unverified email.

const KINDS: ProviderKind[] = ['google', 'github', 'discord', 'facebook']

async function standIn (t: { teardown(fn: () => unknown): void }, kind: ProviderKind, user: StandInUser, options: { enterprise?: boolean } = {}): Promise<ProviderStandIn> {
  const s = await startProviderStandIn(kind, { ...options, user })
  t.teardown(() => s.close())
  return s
}

const person = (n: number, overrides: Partial<StandInUser> = {}): StandInUser =>
  ({ subject: String(1000 + n), email: `person${n}@example.test`, emailVerified: true, name: `Person ${n}`, login: `person${n}`, ...overrides })

/** Marks the account's email as verified by `by`, as a verification link, a reset or an operator would. */
async function verifiedBy (app: FastifyInstance, email: string, by: 'mail' | 'reset' | 'operator' | 'provider'): Promise<string> {
  const user = await app.lcauth.storage.users.findByEmail(email)
  await app.lcauth.storage.users.update(user!.id, { emailVerified: true, emailVerifiedBy: by }, new Date())
  return user!.id
}

for (const kind of KINDS) {
  t.test(`${kind}: the first sign-in creates a USER and hands off through the refresh cookie; the next finds the same user`, async t => {
    const s = await standIn(t, kind, person(1, { avatar: kind === 'discord' ? '8342729096ea3675442027381ff50dfe' : 'https://img.example.test/p1.png' }), { enterprise: kind === 'github' })
    const { app, events } = await socialApp(t, [s])
    await registerAndLogin(app) // someone else is the first user, so the admin rule cannot hide anything here

    const round = await signInWith(app, s)
    t.equal(round.start.statusCode, 302)
    t.equal(round.callback.statusCode, 302)
    t.equal(round.callback.headers.location, SIGNED_IN, 'LibreChat\'s hand-off: a redirect to DOMAIN_CLIENT')
    t.ok(round.refresh, 'the refresh cookie is set')
    t.equal(round.callback.body, '', 'no token in the body: the client refreshes')
    const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${round.refresh}` } })
    t.equal(refreshed.statusCode, 200)
    const { user } = refreshed.json()
    t.match(user, { email: 'person1@example.test', provider: kind, role: 'USER', emailVerified: kind !== 'facebook', name: 'Person 1' })
    t.match(user.avatar, /^https:\/\//)
    t.match(events.take('register.success'), [{}, { userId: user.id, role: 'USER', provider: kind }])
    t.match(events.take('login.success').at(-1), { userId: user.id, provider: kind })

    // The person changes their email at the provider: the identity, not the email, finds them.
    s.user = { ...s.user, email: 'renamed@example.test' }
    const again = await signInWith(app, s)
    t.equal(again.callback.headers.location, SIGNED_IN)
    const second = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${again.refresh}` } })
    t.equal(second.json().user.id, user.id)
    const [identity] = await app.lcauth.storage.identities.listByUser(user.id)
    t.match(identity, { provider: kind, subject: '1001', email: 'renamed@example.test' }, 'the identity records the provider\'s latest word')
  })
}

t.test('provider-created accounts are never the first-user admin', async t => {
  const s = await standIn(t, 'google', person(2))
  const { app } = await socialApp(t, [s])
  await signInWith(app, s)
  t.equal((await app.lcauth.storage.users.findByEmail('person2@example.test'))?.role, 'USER')
  await register(app, { ...alice, email: 'first-local@example.test' })
  t.equal((await app.lcauth.storage.users.findByEmail('first-local@example.test'))?.role, 'USER', 'the admin is the first account ever, which was not local: nobody is promoted')
})

t.test('linking by email needs the provider AND this system to have verified the address', async t => {
  const cases: Array<{ kind: ProviderKind, user: Partial<StandInUser>, by: 'mail' | 'reset' | 'operator' | 'provider' | null, linked: boolean, why: string }> = [
    { kind: 'google', user: {}, by: 'mail', linked: true, why: 'google verified, account verified by a mailed link' },
    { kind: 'discord', user: {}, by: 'reset', linked: true, why: 'discord verified, account verified by a completed reset' },
    { kind: 'github', user: {}, by: 'operator', linked: false, why: 'an operator\'s word does not count' },
    { kind: 'google', user: {}, by: 'provider', linked: false, why: 'another provider\'s word does not count' },
    { kind: 'google', user: {}, by: null, linked: false, why: 'the account never verified its email' },
    { kind: 'google', user: { emailVerified: false }, by: 'mail', linked: false, why: 'google did not verify the email' },
    { kind: 'discord', user: { emailVerified: false }, by: 'mail', linked: false, why: 'discord verified: false' },
    { kind: 'github', user: { emails: [{ email: 'alice@example.test', primary: true, verified: false }, { email: 'other@example.test', primary: false, verified: true }] }, by: 'mail', linked: false, why: 'github: no verified primary' },
    { kind: 'facebook', user: {}, by: 'mail', linked: false, why: 'facebook emails never count as verified' }
  ]
  for (const c of cases) {
    await t.test(c.why, async t => {
      const s = await standIn(t, c.kind, person(3, { email: 'Alice@Example.test', ...c.user }))
      const { app, events } = await socialApp(t, [s])
      await register(app)
      const aliceId = c.by === null ? (await app.lcauth.storage.users.findByEmail(alice.email))!.id : await verifiedBy(app, alice.email, c.by)
      const round = await signInWith(app, s)
      if (c.linked) {
        t.equal(round.callback.headers.location, SIGNED_IN)
        t.match(events.take('oauth.linked'), [{ userId: aliceId, provider: c.kind, by: 'email' }])
        t.equal((await app.lcauth.storage.identities.listByUser(aliceId)).length, 1)
      } else {
        t.equal(round.callback.headers.location, FAILED)
        t.equal(round.refresh, null, 'no session')
        t.match(events.take('oauth.link_refused'), [{ userId: aliceId, provider: c.kind, reason: c.user.emailVerified === false || c.user.emails !== undefined || c.kind === 'facebook' ? 'provider_unverified' : 'account_unverified' }])
        t.match(events.take('oauth.failure'), [{ provider: c.kind, reason: 'link_refused', userId: aliceId }])
        t.same(await app.lcauth.storage.identities.listByUser(aliceId), [], 'no identity row is written')
        t.equal(await app.lcauth.storage.users.findByEmail('alice@example.test').then(u => u?.provider), 'local', 'the account is untouched')
      }
    })
  }
})

t.test('a second provider asserting the same email is not logged into the first one\'s account (OA-05)', async t => {
  const google = await standIn(t, 'google', person(4))
  const discord = await standIn(t, 'discord', person(4, { subject: '999' }))
  const { app, events } = await socialApp(t, [google, discord])
  t.equal((await signInWith(app, google)).callback.headers.location, SIGNED_IN)
  // The account's email was vouched for by Google only: Discord's word cannot link to it.
  t.equal((await signInWith(app, discord)).callback.headers.location, FAILED)
  t.match(events.take('oauth.link_refused'), [{ provider: 'discord', reason: 'account_unverified' }])
})

t.test('no email, registration off, a domain not allowed: no account, the generic failure (REG-05)', async t => {
  const noEmail = await standIn(t, 'discord', person(5, { email: null }))
  const { app, events } = await socialApp(t, [noEmail])
  t.equal((await signInWith(app, noEmail)).callback.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'no_email' }])

  const s = await standIn(t, 'google', person(6))
  const closed = await socialApp(t, [s], { allowSocialRegistration: false })
  t.equal((await signInWith(closed.app, s)).callback.headers.location, FAILED)
  t.match(closed.events.take('oauth.failure'), [{ reason: 'registration_disabled' }])
  t.equal(await closed.app.lcauth.storage.users.findByEmail('person6@example.test'), null)

  const fenced = await socialApp(t, [s], { allowedEmailDomains: ['example.org'] })
  t.equal((await signInWith(fenced.app, s)).callback.headers.location, FAILED)
  t.match(fenced.events.take('oauth.failure'), [{ reason: 'domain_not_allowed' }])
  t.equal(await fenced.app.lcauth.storage.users.findByEmail('person6@example.test'), null)
})

t.test('a disabled user and a banned user are refused; a banned address never reaches the provider', async t => {
  const s = await standIn(t, 'github', person(7))
  const { app, events } = await socialApp(t, [s])
  await signInWith(app, s)
  const user = await app.lcauth.storage.users.findByEmail('person7@example.test')
  await app.lcauth.storage.users.update(user!.id, { disabledAt: new Date() }, new Date())
  t.equal((await signInWith(app, s)).callback.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'disabled', userId: user!.id }])

  await app.lcauth.storage.users.update(user!.id, { disabledAt: null }, new Date())
  await app.lcauth.moderation.banUser('person7@example.test', 60_000, { ip: null, userAgent: null, requestId: null })
  t.equal((await signInWith(app, s)).callback.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'banned', userId: user!.id }])

  // A fresh instance: each one caches ban lookups for a second, and this address was just checked.
  const bans = memoryBanStore()
  const { app: other, events: otherEvents } = await socialApp(t, [s], { banStore: bans })
  await bans.put({ subject: { kind: 'ip', id: '127.0.0.1' }, reason: 'operator', createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) })
  const before = s.requests.length
  const start = await other.inject({ method: 'GET', url: '/oauth/github' })
  t.equal(start.headers.location, FAILED, 'the start route refuses a banned address with the same redirect')
  t.equal(s.requests.length, before, 'nothing was sent to the provider')
  t.match(otherEvents.take('oauth.failure'), [{ reason: 'banned' }])
})

t.test('/api/auth/config lists the enabled providers in LibreChat\'s order', async t => {
  const all = await Promise.all(KINDS.map(kind => standIn(t, kind, person(8))))
  const { app } = await socialApp(t, all.reverse())
  t.match((await app.inject({ method: 'GET', url: '/api/auth/config' })).json(), {
    socialLoginEnabled: true,
    socialLogins: ['google', 'facebook', 'github', 'discord'],
    googleLoginEnabled: true,
    githubLoginEnabled: true,
    discordLoginEnabled: true,
    facebookLoginEnabled: true
  })
  const off = await socialApp(t, all, { allowSocialLogin: false })
  t.match((await off.app.inject({ method: 'GET', url: '/api/auth/config' })).json(), { socialLoginEnabled: false, socialLogins: [], googleLoginEnabled: false })
  t.equal((await off.app.inject({ method: 'GET', url: '/oauth/google' })).statusCode, 404, 'no route for a provider that is not enabled')
})
