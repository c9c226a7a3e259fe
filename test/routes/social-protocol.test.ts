import { createHash } from 'node:crypto'
import t from 'tap'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { errors } from '../../lib/errors.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { PROVIDER_CANARY, type ProviderKind, type ProviderStandIn, startProviderStandIn } from '../helpers/oauth-providers.ts'
import { FAILED, finish, flowCookieOf, SIGNED_IN, signInWith, socialApp } from '../helpers/social.ts'

// The protocol around a sign-in (checklist OA-01, OA-02, OA-07, OA-09): state bound to the browser and
// spent once, PKCE S256, a code exchanged once, static redirect URIs, and nothing a provider said or
// issued ever reaching the browser.

async function standIn (t: { teardown(fn: () => unknown): void }, kind: ProviderKind): Promise<ProviderStandIn> {
  const s = await startProviderStandIn(kind, { user: { subject: '42', email: 'sam@example.test', emailVerified: true, name: 'Sam Sample' } })
  t.teardown(() => s.close())
  return s
}

const tokenRequests = (s: ProviderStandIn): number => s.requests.filter(r => r.method === 'POST' || r.path.endsWith('access_token')).length

t.test('the flow cookie: signed, HttpOnly, SameSite=Lax, scoped to /oauth, ten minutes; cleared by the callback', async t => {
  const s = await standIn(t, 'google')
  const { app } = await socialApp(t, [s])
  const round = await signInWith(app, s)
  const set = round.start.cookies.find(c => c.name === 'lcauth_oauth')
  t.match(set, { httpOnly: true, sameSite: 'Lax', path: '/oauth', maxAge: 600 })
  t.match(set?.value, /^[\w-]+\.[\w-]{43}$/, 'payload and HMAC')
  const cleared = round.callback.cookies.find(c => c.name === 'lcauth_oauth')
  t.match(cleared, { value: '', path: '/oauth' })
  t.ok(cleared?.expires !== undefined && cleared.expires.getTime() <= Date.now(), 'expired at once')

  const secure = await socialApp(t, [s], { domainServer: 'https://chat.example.com' })
  const start = await secure.app.inject({ method: 'GET', url: '/oauth/google' })
  t.match(start.cookies.find(c => c.name === '__Secure-lcauth_oauth'), { secure: true, httpOnly: true, sameSite: 'Lax', path: '/oauth' })
})

t.test('the authorization request: static redirect_uri whatever the Host, state, PKCE S256 where the provider takes it (OA-02, OA-07)', async t => {
  for (const kind of ['google', 'github', 'discord', 'facebook'] as const) {
    const s = await standIn(t, kind)
    const { app } = await socialApp(t, [s])
    const start = await app.inject({ method: 'GET', url: `/oauth/${kind}`, headers: { host: 'evil.test', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https' } })
    const url = new URL(String(start.headers.location))
    t.equal(url.searchParams.get('redirect_uri'), `http://127.0.0.1:3080/oauth/${kind}/callback`, `${kind}: redirect_uri from DOMAIN_SERVER`)
    t.match(url.searchParams.get('state'), /^[\w-]{43}$/, `${kind}: 256 bits of state`)
    if (kind === 'facebook') {
      t.equal(url.searchParams.get('code_challenge'), null, 'facebook: no PKCE')
    } else {
      t.equal(url.searchParams.get('code_challenge_method'), 'S256', `${kind}: S256, never plain`)
      t.match(url.searchParams.get('code_challenge'), /^[\w-]{43}$/)
    }
    await finish(app, await s.consent(url.toString()), flowCookieOf(start))
    const exchange = s.requests.find(r => r.form?.grant_type === 'authorization_code' || r.query.code !== undefined && r.path.endsWith('access_token'))
    const form = exchange?.form ?? exchange?.query ?? {}
    t.equal(form.redirect_uri, `http://127.0.0.1:3080/oauth/${kind}/callback`)
    if (kind !== 'facebook') {
      t.equal(createHash('sha256').update(String(form.code_verifier)).digest('base64url'), url.searchParams.get('code_challenge'), `${kind}: the verifier matches the challenge`)
    }
  }
})

t.test('state missing, forged, from another flow, expired or replayed: no session, the code never exchanged twice (OA-01)', async t => {
  const s = await standIn(t, 'github')
  const { app, events } = await socialApp(t, [s])

  // Missing: the callback URL without the browser's cookie (another browser, or a CSRF).
  const start = await app.inject({ method: 'GET', url: '/oauth/github' })
  const callbackUrl = await s.consent(String(start.headers.location))
  const missing = await finish(app, callbackUrl, null)
  t.equal(missing.headers.location, FAILED)
  t.equal(missing.cookies.find(c => c.name === 'refreshToken'), undefined)
  t.match(events.take('oauth.failure'), [{ provider: 'github', reason: 'state_missing' }])

  // Forged: the cookie's payload changed (say, to a link intent for someone else) breaks its HMAC.
  const flow = flowCookieOf(start) as string
  const [name, value] = flow.split('=') as [string, string]
  const [body, mac] = value.split('.') as [string, string]
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString())
  const forged = `${name}=${Buffer.from(JSON.stringify({ ...payload, intent: 'link', userId: 'victim' })).toString('base64url')}.${mac}`
  t.equal((await finish(app, callbackUrl, forged)).headers.location, FAILED)
  t.equal((await finish(app, callbackUrl, `${name}=${body}.${'A'.repeat(43)}`)).headers.location, FAILED)
  t.equal((await finish(app, callbackUrl, `${name}=garbage`)).headers.location, FAILED)
  t.equal((await finish(app, callbackUrl, `${name}=${'x'.repeat(5000)}`)).headers.location, FAILED, 'an oversized cookie is not even parsed')
  t.match(events.take('oauth.failure'), [{ reason: 'state_invalid' }, { reason: 'state_invalid' }, { reason: 'state_invalid' }, { reason: 'state_invalid' }])

  // Another flow's cookie: this browser started a different sign-in.
  const other = await app.inject({ method: 'GET', url: '/oauth/github' })
  t.equal((await finish(app, callbackUrl, flowCookieOf(other))).headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'state_invalid' }])
  t.equal(tokenRequests(s), 0, 'no refused callback reached the token endpoint')

  // The real one works once; the same URL with the same cookie again is a replay.
  const first = await finish(app, callbackUrl, flow)
  t.equal(first.headers.location, SIGNED_IN)
  const replay = await finish(app, callbackUrl, flow)
  t.equal(replay.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'state_replayed' }])
  t.equal(tokenRequests(s), 1, 'the code was exchanged exactly once')
})

t.test('an expired flow cookie is refused', async t => {
  const s = await standIn(t, 'discord')
  let now = Date.parse('2030-01-01T00:00:00Z')
  const { app, events } = await socialApp(t, [s], { now: () => new Date(now) })
  const start = await app.inject({ method: 'GET', url: '/oauth/discord' })
  const callbackUrl = await s.consent(String(start.headers.location))
  now += 10 * 60_000 + 1
  t.equal((await finish(app, callbackUrl, flowCookieOf(start))).headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'state_invalid' }])
})

t.test('mix-up: a flow started for one provider is refused at another\'s callback (OA-07)', async t => {
  const google = await standIn(t, 'google')
  const discord = await standIn(t, 'discord')
  const { app, events } = await socialApp(t, [google, discord])
  const start = await app.inject({ method: 'GET', url: '/oauth/google' })
  const callbackUrl = await google.consent(String(start.headers.location))
  const atDiscord = await finish(app, callbackUrl, flowCookieOf(start), path => path.replace('/oauth/google/', '/oauth/discord/'))
  t.equal(atDiscord.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ provider: 'discord', reason: 'state_invalid' }])
})

t.test('an injected code (issued for another PKCE challenge) and a replayed code are refused by the exchange', async t => {
  const s = await standIn(t, 'google')
  const { app, events } = await socialApp(t, [s])
  // The attacker's code, obtained with their own challenge, pasted into the victim's callback.
  const start = await app.inject({ method: 'GET', url: '/oauth/google' })
  const authorize = new URL(String(start.headers.location))
  authorize.searchParams.set('code_challenge', createHash('sha256').update('attacker-verifier-'.padEnd(50, 'x')).digest('base64url'))
  const injected = await finish(app, await s.consent(authorize.toString()), flowCookieOf(start))
  t.equal(injected.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'provider_error' }])

  // A code already exchanged, carried by a fresh flow's state.
  const used = await signInWith(app, s)
  t.equal(used.callback.headers.location, SIGNED_IN)
  const fresh = await app.inject({ method: 'GET', url: '/oauth/google' })
  const freshState = new URL(String(fresh.headers.location)).searchParams.get('state') as string
  const oldCode = new URL(used.callbackUrl).searchParams.get('code') as string
  const replayed = await finish(app, `http://127.0.0.1:3080/oauth/google/callback?code=${oldCode}&state=${freshState}`, flowCookieOf(fresh))
  t.equal(replayed.headers.location, FAILED)
  t.match(events.take('oauth.failure'), [{ reason: 'provider_error' }])
})

t.test('denied consent, provider errors and timeouts: the generic redirect, nothing of the provider\'s in it (OA-09)', async t => {
  const s = await standIn(t, 'github')
  const { app, events } = await socialApp(t, [s], {}, 300)
  const check = (label: string, response: { headers: Record<string, unknown>, body: string }): void => {
    t.equal(response.headers.location, FAILED, label)
    t.notMatch(response.body + JSON.stringify(response.headers), PROVIDER_CANARY, `${label}: the provider's words stay out`)
  }

  s.deny = true
  check('denied', (await signInWith(app, s)).callback)
  s.tokenFault = 'error'
  check('token 500', (await signInWith(app, s)).callback)
  s.tokenFault = 'hang'
  let began = Date.now()
  check('token timeout', (await signInWith(app, s)).callback)
  t.ok(Date.now() - began < 3000, 'the timeout bounds the wait')
  s.tokenFault = null
  s.apiFault = 'error'
  check('api 500', (await signInWith(app, s)).callback)
  s.apiFault = 'hang'
  began = Date.now()
  check('api timeout', (await signInWith(app, s)).callback)
  t.ok(Date.now() - began < 3000)
  t.same(events.take('oauth.failure').map(e => e.reason), ['denied', 'provider_error', 'timeout', 'provider_error', 'timeout'])

  // A callback with an odd error, or without a code, is a failure too; its text is not repeated anywhere.
  const start = await app.inject({ method: 'GET', url: '/oauth/github' })
  const state = new URL(String(start.headers.location)).searchParams.get('state') as string
  check('error text', await finish(app, `http://127.0.0.1:3080/oauth/github/callback?error=%3Cscript%3E${PROVIDER_CANARY}&state=${state}`, flowCookieOf(start)))
  const again = await app.inject({ method: 'GET', url: '/oauth/github' })
  const againState = new URL(String(again.headers.location)).searchParams.get('state') as string
  check('no code', await finish(app, `http://127.0.0.1:3080/oauth/github/callback?state=${againState}`, flowCookieOf(again)))
  t.same(events.take('oauth.failure').map(e => e.reason), ['denied', 'provider_error'])
})

t.test('an unreachable provider, a storage outage, an unexpected error and the login limit: the failure redirect, never a 500', async t => {
  const s = await standIn(t, 'discord')
  const unreachable = await socialApp(t, [{ ...s, endpoints: { ...s.endpoints, tokenUrl: 'http://127.0.0.1:1/api/oauth2/token' } }])
  t.equal((await signInWith(unreachable.app, s)).callback.headers.location, FAILED)
  t.match(unreachable.events.take('oauth.failure'), [{ reason: 'provider_error' }])

  const failing = (error: Error): Storage => {
    const inner = memoryStorage()
    return { ...inner, identities: { ...inner.identities, find: async () => { throw error } } }
  }
  const outage = await socialApp(t, [s], { storage: failing(new errors.FST_LCAUTH_STORAGE_UNAVAILABLE()) })
  t.equal((await signInWith(outage.app, s)).callback.headers.location, FAILED)
  t.match(outage.events.take('oauth.failure'), [{ reason: 'unavailable' }])
  const broken = await socialApp(t, [s], { storage: failing(new TypeError('a bug')) })
  const response = (await signInWith(broken.app, s)).callback
  t.equal(response.statusCode, 302)
  t.equal(response.headers.location, FAILED)
  t.notMatch(response.body, /a bug/)
  t.match(broken.events.take('oauth.failure'), [{ reason: 'internal' }])

  const limited = await socialApp(t, [s], { moderation: { limits: { login: { max: 1, windowMs: 60_000 } } } })
  t.equal((await signInWith(limited.app, s)).callback.headers.location, SIGNED_IN)
  const refused = (await signInWith(limited.app, s)).callback
  t.equal(refused.headers.location, FAILED)
  t.match(limited.events.take('oauth.failure'), [{ reason: 'rate_limited' }])
})

t.test('provider tokens never reach a response, an event or the user record (OA-09)', async t => {
  const s = await standIn(t, 'discord')
  const { app, events } = await socialApp(t, [s])
  const round = await signInWith(app, s)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${round.refresh}` } })
  const { token, user } = refreshed.json()
  const me = await app.inject({ method: 'GET', url: '/api/user', headers: { authorization: `Bearer ${token}` } })
  t.same(Object.keys(me.json()).sort(), ['avatar', 'createdAt', 'email', 'emailVerified', 'id', 'name', 'provider', 'role', 'updatedAt', 'username'])
  const identities = await app.inject({ method: 'GET', url: '/api/user/identities', headers: { authorization: `Bearer ${token}` } })
  t.same(Object.keys(identities.json()[0]).sort(), ['email', 'emailVerified', 'linkedAt', 'provider'])
  const issued = s.requests.map(r => r.headers.authorization).filter(h => typeof h === 'string').map(h => String(h).replace(/^Bearer /, ''))
  t.ok(issued.length > 0)
  const everything = JSON.stringify([round.callback.body, round.callback.headers, refreshed.body, me.body, identities.body, events.all, await app.lcauth.storage.users.findById(user.id)])
  for (const providerToken of issued) t.notOk(everything.includes(providerToken), 'a provider access token appears nowhere')
  t.notOk(JSON.stringify(app.lcauth.config).includes(s.clientSecret), 'fastify.lcauth.config leaves the client secret out')
})
