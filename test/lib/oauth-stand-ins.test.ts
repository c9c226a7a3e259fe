import type { JsonWebKey } from 'node:crypto'
import { request } from 'node:http'
import t, { type Test } from 'tap'
import { PROVIDER_CANARY, startProviderStandIn, type ProviderKind, type ProviderStandIn, type StandInOptions } from '../helpers/oauth-providers.ts'
import { api, authorizeUrl, CALLBACK, codeFor, exchange, KINDS, login, pkcePair, verifiedClaims, type Body } from '../helpers/oauth/client.ts'

async function standIn (t: Test, kind: ProviderKind, options: StandInOptions = {}): Promise<ProviderStandIn> {
  const provider = await startProviderStandIn(kind, options)
  t.teardown(() => provider.close())
  return provider
}

t.test('google: authorize, token with a signed id_token, keys at /oauth2/v3/certs', async t => {
  const at = new Date('2030-01-01T00:00:00Z')
  const google = await standIn(t, 'google', { now: () => at })
  t.equal(google.endpoints.authorizeUrl, `${google.origin}/o/oauth2/v2/auth`)
  t.equal(google.endpoints.tokenUrl, `${google.origin}/token`)
  t.equal(google.endpoints.apiUrl, google.origin)
  t.equal(google.enterpriseBaseUrl, undefined)

  const callback = new URL(await google.consent(authorizeUrl(google, { nonce: 'n-1' })))
  t.equal(`${callback.origin}${callback.pathname}`, CALLBACK)
  t.match(Object.fromEntries(callback.searchParams), { state: 'state-123', scope: 'openid profile email', authuser: '0', code: /\S+/ })
  const answer = await exchange(google, { code: callback.searchParams.get('code') ?? '', inBody: true })
  t.equal(answer.status, 200)
  t.match(answer.body, { token_type: 'Bearer', expires_in: 3599, scope: 'openid profile email', access_token: /^ya29\./ })

  const certs = await api(google, '/oauth2/v3/certs', null)
  const jwk = (certs.body as { keys: Array<JsonWebKey & { kid: string }> }).keys[0]
  if (jwk === undefined) throw new Error('no key')
  const [header] = String(answer.body.id_token).split('.')
  t.match(JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')), { alg: 'RS256', kid: jwk.kid })
  const user = google.user
  t.same(verifiedClaims(String(answer.body.id_token), jwk), {
    iss: 'https://accounts.google.com',
    azp: google.clientId,
    aud: google.clientId,
    sub: user.subject,
    email: user.email,
    email_verified: true,
    name: user.name,
    picture: user.avatar,
    nonce: 'n-1',
    iat: at.getTime() / 1000,
    exp: at.getTime() / 1000 + 3600
  })

  google.user = { subject: '42', email: null, emailVerified: false }
  const bare = await login(google)
  t.same(Object.keys(verifiedClaims(String(bare.id_token), jwk)).sort(), ['aud', 'azp', 'exp', 'iat', 'iss', 'sub'], 'no email claims for a person without one')
  t.notOk('id_token' in await login(google, { scope: 'email' }), 'no id_token without openid')
})

for (const enterprise of [false, true]) {
  t.test(`github${enterprise ? ' enterprise' : ''}: paths, /user and /user/emails`, async t => {
    const github = await standIn(t, 'github', { enterprise })
    const apiUrl = enterprise ? `${github.origin}/api/v3` : github.origin
    t.same(github.endpoints, { authorizeUrl: `${github.origin}/login/oauth/authorize`, tokenUrl: `${github.origin}/login/oauth/access_token`, apiUrl })
    t.equal(github.enterpriseBaseUrl, enterprise ? github.origin : undefined)

    const answer = await login(github)
    t.match(answer, { token_type: 'bearer', scope: 'user:email', access_token: /^gho_/ })
    t.notOk('expires_in' in answer, 'OAuth app tokens do not expire')
    const token = String(answer.access_token)
    const user = github.user
    const profile = await api(github, '/user', token)
    t.match(profile, {
      status: 200,
      body: { login: user.login, id: Number(user.subject), node_id: String, avatar_url: user.avatar, html_url: `${github.origin}/ada`, type: 'User', site_admin: false, name: user.name, email: user.email }
    })
    t.equal(Object.keys(profile.body as Body).length, 9, 'nothing more')
    t.same((await api(github, '/user/emails', token)).body, [{ email: user.email, primary: true, verified: true, visibility: 'public' }])
    if (enterprise) t.equal((await fetch(`${github.origin}/user`, { headers: { authorization: `Bearer ${token}` } })).status, 404, 'no API at the root of an Enterprise Server')

    github.user = { ...user, emailVerified: false, emails: [{ email: 'x@example.test', primary: true, verified: false }, { email: 'y@example.test', primary: false, verified: true }] }
    const second = String((await login(github)).access_token)
    t.match((await api(github, '/user', second)).body, { email: null }, 'an unverified primary email is never public')
    t.same((await api(github, '/user/emails', second)).body, [
      { email: 'x@example.test', primary: true, verified: false, visibility: 'private' },
      { email: 'y@example.test', primary: false, verified: true, visibility: null }
    ])
    t.equal((await api(github, '/user/emails', String((await login(github, { scope: 'read:user' })).access_token))).status, 404, '/user/emails needs user:email')
    github.user = { subject: '7', email: null, emailVerified: false }
    t.same((await api(github, '/user/emails', String((await login(github)).access_token))).body, [])
  })
}

t.test('github: errors answer 200, and without Accept: application/json everything is form-encoded', async t => {
  const github = await standIn(t, 'github')
  const code = await codeFor(github)
  const first = await exchange(github, { code, inBody: true, accept: '*/*' })
  t.match(first, { status: 200, type: /^application\/x-www-form-urlencoded/, body: { token_type: 'bearer', scope: 'user:email', access_token: /^gho_/ } })
  t.match(await exchange(github, { code }), { status: 200, type: /^application\/json/, body: { error: 'bad_verification_code', error_description: /used/ } })
  t.match(await exchange(github, { code, accept: '*/*' }), { status: 200, body: { error: 'bad_verification_code' } })
  t.match(await exchange(github, { code: await codeFor(github), secret: 'wrong' }), { status: 200, body: { error: 'incorrect_client_credentials' } })
  t.match(await exchange(github, { code: await codeFor(github), redirectUri: 'http://127.0.0.1:9/elsewhere' }), { status: 200, body: { error: 'redirect_uri_mismatch' } })

  const token = String((await login(github)).access_token)
  const noAgent = await new Promise<{ status: number, text: string }>((resolve, reject) => {
    const req = request(`${github.endpoints.apiUrl}/user`, { headers: { authorization: `token ${token}` } }, res => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
  t.match(noAgent, { status: 403, text: /User-Agent/ }, 'no User-Agent, no answer')
  t.equal((await api(github, '/user', null)).status, 401)
  t.match(await api(github, '/user', 'gho_unknown'), { status: 401, body: { message: 'Bad credentials' } })
})

t.test('discord: /api/users/@me, versioned or not, email with the email scope only', async t => {
  const discord = await standIn(t, 'discord')
  t.same(discord.endpoints, { authorizeUrl: `${discord.origin}/oauth2/authorize`, tokenUrl: `${discord.origin}/api/oauth2/token`, apiUrl: `${discord.origin}/api` })
  const answer = await login(discord)
  t.match(answer, { token_type: 'Bearer', expires_in: 604800, scope: 'identify email', refresh_token: /\S+/ })
  const user = discord.user
  const me = { id: user.subject, username: user.login, global_name: user.name, avatar: user.avatar, email: user.email, verified: true }
  t.match(await api(discord, '/users/@me', String(answer.access_token)), { status: 200, body: me })
  t.match((await fetch(`${discord.origin}/api/v10/users/@me`, { headers: { authorization: `Bearer ${String(answer.access_token)}` } })).status, 200)
  const identifyOnly = await api(discord, '/users/@me', String((await login(discord, { scope: 'identify' })).access_token))
  t.notOk('email' in (identifyOnly.body as Body) || 'verified' in (identifyOnly.body as Body), 'no email without the email scope')
  t.match(await api(discord, '/users/@me', String((await login(discord, { scope: 'email' })).access_token)), { status: 401 }, 'identify is needed')
  t.match(await api(discord, '/users/@me', null), { status: 401, body: { message: '401: Unauthorized' } })
})

t.test('facebook: token by POST or GET, /me by header or query, email left out when absent', async t => {
  const facebook = await standIn(t, 'facebook')
  t.same(facebook.endpoints, { authorizeUrl: `${facebook.origin}/v19.0/dialog/oauth`, tokenUrl: `${facebook.origin}/v19.0/oauth/access_token`, apiUrl: `${facebook.origin}/v19.0` })
  const answer = await login(facebook)
  t.same(Object.keys(answer).sort(), ['access_token', 'expires_in', 'token_type'])
  t.match(answer, { token_type: 'bearer', access_token: /^EAA/ })
  const user = facebook.user
  const fields = '/me?fields=id,name,email,picture'
  t.same(await api(facebook, fields, String(answer.access_token)), {
    status: 200,
    body: { id: user.subject, name: user.name, email: user.email, picture: { data: { height: 50, width: 50, is_silhouette: false, url: user.avatar } } }
  })

  const byGet = new URL(facebook.endpoints.tokenUrl)
  const code = await codeFor(facebook)
  for (const [name, value] of Object.entries({ client_id: facebook.clientId, client_secret: facebook.clientSecret, redirect_uri: CALLBACK, code })) byGet.searchParams.set(name, value)
  const got = await (await fetch(byGet)).json() as Body
  const byQuery = await fetch(`${facebook.endpoints.apiUrl}${fields}&access_token=${String(got.access_token)}`)
  t.match(await byQuery.json(), { id: user.subject, email: user.email })
  t.match(await (await fetch(byGet)).json(), { error: { type: 'OAuthException', code: 100, message: /used/ } }, 'the same code again')

  facebook.user = { subject: '1001', email: null, emailVerified: false, name: 'No Mail', avatar: null }
  const bare = await api(facebook, fields, String((await login(facebook)).access_token))
  t.same(bare.body, { id: '1001', name: 'No Mail', picture: { data: { height: 50, width: 50, is_silhouette: true, url: `${facebook.origin}/static/silhouette.png` } } })
  facebook.user = user
  t.notOk('email' in ((await api(facebook, fields, String((await login(facebook, { scope: 'public_profile' })).access_token))).body as Body), 'email needs the email permission')
  t.match(await api(facebook, '/me?fields=id,birthday', String(answer.access_token)), { status: 400, body: { error: { code: 100 } } })
  t.match(await api(facebook, '/me', 'EAAunknown'), { status: 401, body: { error: { type: 'OAuthException', code: 190 } } })
})

const REFUSED: Record<ProviderKind, { status: number, body: Body }> = {
  google: { status: 400, body: { error: 'invalid_grant' } },
  github: { status: 200, body: { error: 'bad_verification_code' } },
  discord: { status: 400, body: { error: 'invalid_grant' } },
  facebook: { status: 400, body: { error: { type: 'OAuthException', code: 100 } } }
}

for (const kind of KINDS) {
  t.test(`${kind}: codes are single-use and bound to their redirect_uri and PKCE challenge`, async t => {
    const provider = await standIn(t, kind)
    const refused = REFUSED[kind]
    const { verifier, challenge } = pkcePair()

    const code = await codeFor(provider, { challenge, method: 'S256' })
    t.equal((await exchange(provider, { code, verifier })).status, 200)
    t.match(await exchange(provider, { code, verifier }), refused, 'replay')

    const mismatch = await codeFor(provider, { challenge, method: 'S256' })
    t.match(await exchange(provider, { code: mismatch, verifier: pkcePair().verifier }), refused, 'wrong verifier')
    t.match(await exchange(provider, { code: mismatch, verifier }), refused, 'spent by the failed presentation')
    t.match(await exchange(provider, { code: await codeFor(provider, { challenge, method: 'S256' }) }), refused, 'missing verifier')
    t.match(await exchange(provider, { code: await codeFor(provider), verifier }), refused, 'a verifier without a challenge')
    t.match(await exchange(provider, { code: await codeFor(provider, { challenge, method: 'S256' }), verifier: 'short' }), refused, 'malformed verifier')

    const elsewhere = kind === 'github' ? { status: 200, body: { error: 'redirect_uri_mismatch' } } : refused
    t.match(await exchange(provider, { code: await codeFor(provider), redirectUri: `${CALLBACK}/x` }), elsewhere, 'wrong redirect_uri')
    const plain = await codeFor(provider, { challenge: verifier, method: 'plain' })
    t.equal((await exchange(provider, { code: plain, verifier })).status, 200, 'plain is recorded, not refused')
    t.match(provider.requests.find(entry => entry.query.code_challenge_method === 'plain'), { method: 'GET', query: { code_challenge: verifier } })
    t.match(provider.requests.at(-1), { method: 'POST', form: { code: plain, code_verifier: verifier, redirect_uri: CALLBACK }, headers: { authorization: /^Basic / } })

    const wrongSecret = await exchange(provider, { code: await codeFor(provider), secret: 'nope', inBody: true })
    t.match(wrongSecret, kind === 'github' ? { status: 200 } : { status: kind === 'facebook' ? 400 : 401 }, 'a wrong secret')
    t.match(wrongSecret.text, /invalid_client|incorrect_client_credentials|OAuthException/)
  })
}

t.test('authorize: checks the request, and a denial goes back once with the canary', async t => {
  const discord = await standIn(t, 'discord')
  const bad = async (change: (url: URL) => void): Promise<Response> => {
    const url = new URL(authorizeUrl(discord))
    change(url)
    return fetch(url, { redirect: 'manual' })
  }
  for (const name of ['response_type', 'client_id', 'redirect_uri', 'state']) {
    t.equal((await bad(url => url.searchParams.delete(name))).status, 400, `without ${name}`)
  }
  t.equal((await bad(url => url.searchParams.set('client_id', 'someone-else'))).status, 400, 'unknown client')
  t.equal((await bad(url => url.searchParams.set('response_type', 'token'))).status, 400, 'implicit flow')
  await t.rejects(discord.consent(authorizeUrl(discord).replace(discord.clientId, 'x')), /answered 400/)
  await t.rejects(discord.consent('http://127.0.0.1:9/oauth2/authorize'), /not this stand-in/)

  discord.deny = true
  const denied = new URL(await discord.consent(authorizeUrl(discord)))
  t.match(Object.fromEntries(denied.searchParams), { error: 'access_denied', error_description: new RegExp(PROVIDER_CANARY), state: 'state-123' })
  t.notOk(denied.searchParams.has('code'))
  t.equal(discord.deny, false, 'deny resets')
  t.ok(await codeFor(discord), 'the next consent succeeds')
  t.match((await fetch(`${discord.origin}/api/oauth2/authorize?${new URL(authorizeUrl(discord)).searchParams.toString()}`, { redirect: 'manual' })).status, 302, 'also under /api')
})

t.test('faults: error answers 500 with the canary, hang holds the request until close', async t => {
  const github = await startProviderStandIn('github')
  const code = await codeFor(github)
  github.tokenFault = 'error'
  const failed = await exchange(github, { code })
  t.equal(failed.status, 500)
  t.match(failed.text, PROVIDER_CANARY)
  github.tokenFault = null
  const token = String((await exchange(github, { code })).body.access_token)
  t.match(token, /^gho_/, 'a fault does not spend the code')

  github.apiFault = 'error'
  const apiFailed = await fetch(`${github.endpoints.apiUrl}/user`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(apiFailed.status, 500)
  t.match(await apiFailed.text(), PROVIDER_CANARY)

  github.apiFault = 'hang'
  await t.rejects(fetch(`${github.endpoints.apiUrl}/user`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(150) }), { name: 'TimeoutError' })
  github.tokenFault = 'hang'
  const hanging = exchange(github, { code: await codeFor(github) })
  await new Promise(resolve => setTimeout(resolve, 50))
  const started = Date.now()
  await github.close()
  t.ok(Date.now() - started < 500, 'close ends promptly with requests hanging')
  await t.rejects(hanging, 'the hanging request is cut')
  t.match(github.requests.filter(entry => entry.path === '/login/oauth/access_token').length, 3)
})

t.test('enterprise is GitHub only', async t => {
  await t.rejects(startProviderStandIn('google', { enterprise: true }), /GitHub/)
})
