import { createHmac, createPublicKey, verify, type JsonWebKey } from 'node:crypto'
import * as client from 'openid-client'
import t, { type Test } from 'tap'
import { startOidcProvider, type Misbehaviour, type OidcProviderOptions, type OidcStandIn } from '../helpers/oidc-provider.ts'
import { decodeJwt, isJwt, type JwtPart } from '../helpers/oidc/jwt.ts'

// The OpenID stand-in driven by openid-client itself, as the plugin will drive it: discovery,
// authorization code with PKCE, state and nonce, ID token validation and userinfo.

const CALLBACK = 'http://127.0.0.1:3080/oauth/openid/callback'

async function standIn (t: Test, options: OidcProviderOptions = {}): Promise<OidcStandIn> {
  const provider = await startOidcProvider(options)
  t.teardown(() => provider.close())
  return provider
}

interface Tapped { config: client.Configuration, tokenAnswers: JwtPart[] }

/** Discovery as the plugin does it, with the token endpoint's raw answers kept for the assertions. */
async function discover (provider: OidcStandIn, auth = client.ClientSecretBasic(provider.clientSecret)): Promise<Tapped> {
  const config = await client.discovery(new URL(provider.issuer), provider.clientId, provider.clientSecret, auth, { execute: [client.allowInsecureRequests] })
  const tokenAnswers: JwtPart[] = []
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, { ...options, body: options.body ?? null })
    if (url === config.serverMetadata().token_endpoint) tokenAnswers.push(await response.clone().json() as JwtPart)
    return response
  }
  return { config, tokenAnswers }
}

interface Login { callback: URL, checks: { pkceCodeVerifier: string, expectedState: string, expectedNonce: string } }

async function signIn (provider: OidcStandIn, config: client.Configuration, options: { deny?: boolean, pkce?: boolean } = {}): Promise<Login> {
  const checks = { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: client.randomState(), expectedNonce: client.randomNonce() }
  const parameters: Record<string, string> = { redirect_uri: CALLBACK, scope: 'openid profile email', state: checks.expectedState, nonce: checks.expectedNonce }
  if (options.pkce !== false) Object.assign(parameters, { code_challenge: await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier), code_challenge_method: 'S256' })
  const callback = new URL(await provider.signIn(client.buildAuthorizationUrl(config, parameters).href, { deny: options.deny === true }))
  return { callback, checks }
}

const grant = (config: client.Configuration, login: Login) => client.authorizationCodeGrant(config, login.callback, login.checks)

/** Whether `jwt` carries a valid RS256 signature by one of the provider's published keys. */
async function signedByProvider (config: client.Configuration, jwt: string): Promise<boolean> {
  const jwks = await (await fetch(config.serverMetadata().jwks_uri ?? '')).json() as { keys: Array<JsonWebKey & { kid: string }> }
  const { header } = decodeJwt(jwt)
  const jwk = jwks.keys.find(key => key.kid === header.kid)
  const [head, payload, signature] = jwt.split('.')
  if (jwk === undefined || header.alg !== 'RS256') return false
  return verify('sha256', Buffer.from(`${head}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature ?? '', 'base64url'))
}

t.test('happy path: discovery, PKCE S256, the claims in the ID token and at userinfo, a JWT access token with the roles', async t => {
  const provider = await standIn(t)
  const { config, tokenAnswers } = await discover(provider)
  const metadata = config.serverMetadata()
  t.match(metadata, {
    issuer: provider.issuer,
    authorization_endpoint: `${provider.issuer}/auth`,
    token_endpoint: `${provider.issuer}/token`,
    userinfo_endpoint: `${provider.issuer}/me`,
    jwks_uri: `${provider.issuer}/jwks`,
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256']
  })
  t.equal(metadata.end_session_endpoint, undefined, 'no end_session_endpoint unless asked for')
  t.match(provider.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)

  const login = await signIn(provider, config)
  t.equal(`${login.callback.origin}${login.callback.pathname}`, CALLBACK)
  t.same([...login.callback.searchParams.keys()].sort(), ['code', 'iss', 'state'])
  const authorize = provider.requests.find(request => request.path === '/auth')
  t.match(authorize?.query, { code_challenge_method: 'S256', code_challenge: /^[\w-]{43}$/, scope: 'openid profile email', nonce: login.checks.expectedNonce })

  const tokens = await grant(config, login)
  const { sub, claims } = provider.account
  const idClaims = tokens.claims() ?? {}
  t.match(idClaims, { ...claims, sub, nonce: login.checks.expectedNonce, aud: provider.clientId, iss: provider.issuer, iat: Number, exp: Number })
  t.same(Object.keys(idClaims).sort(), [...Object.keys(claims), 'sub', 'nonce', 'aud', 'iss', 'iat', 'exp'].sort(), 'nothing more (no azp, no at_hash)')
  t.ok(await signedByProvider(config, tokens.id_token ?? ''), 'the ID token is oidc-provider\'s own, signed RS256')
  t.same(await client.fetchUserInfo(config, tokens.access_token, sub), { ...claims, sub }, 'userinfo takes the JWT access token')

  const access = decodeJwt(tokens.access_token)
  t.match(access.header, { alg: 'RS256', typ: 'at+jwt' })
  t.match(access.payload, { ...claims, iss: provider.issuer, sub, aud: provider.clientId, client_id: provider.clientId, scope: 'openid profile email', exp: Number, jti: String })
  t.ok(await signedByProvider(config, tokens.access_token), 'the access token is signed with the provider\'s key')
  t.equal(tokenAnswers.length, 1)

  const token = provider.requests.find(request => request.path === '/token')
  t.match(token?.form, { grant_type: 'authorization_code', code: login.callback.searchParams.get('code'), code_verifier: login.checks.pkceCodeVerifier, redirect_uri: CALLBACK })
  t.notOk('client_secret' in (token?.form ?? {}), 'client_secret_basic: the secret is in the header')

  const nonRepudiation = (await discover(provider)).config
  client.enableNonRepudiationChecks(nonRepudiation)
  t.ok((await grant(nonRepudiation, await signIn(provider, nonRepudiation))).id_token, 'the signature checks out against jwks_uri')
})

t.test('claims: provider-specific ones given at start reach both tokens; the account is a snapshot per login', async t => {
  const account = { sub: 'entra-oid-1', claims: { email: 'grace@example.test', realm_access: { roles: ['admin'] }, xms_edov: true, tid: 'tenant-1', department: 'R&D' } }
  const provider = await standIn(t, { account })
  const { config } = await discover(provider)
  const tokens = await grant(config, await signIn(provider, config))
  t.match(tokens.claims(), account.claims)
  t.match(decodeJwt(tokens.access_token).payload, account.claims)

  provider.account = { sub: 'entra-oid-2', claims: { email: 'ada@example.test', realm_access: { roles: [] } } }
  const second = await grant(config, await signIn(provider, config))
  t.match(second.claims(), { sub: 'entra-oid-2', realm_access: { roles: [] } })
  t.notOk('department' in (second.claims() ?? {}))
  t.same(await client.fetchUserInfo(config, tokens.access_token, 'entra-oid-1'), { ...account.claims, sub: 'entra-oid-1' }, 'the first login keeps its claims')

  provider.account = { sub: 'x', claims: { never_configured: 1 } }
  await t.rejects(provider.signIn(client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid' }).href), /never_configured: give them in options.account/)
})

t.test('denial and a missing PKCE challenge come back to the callback as errors', async t => {
  const provider = await standIn(t)
  const { config } = await discover(provider)
  const denied = await signIn(provider, config, { deny: true })
  t.match(Object.fromEntries(denied.callback.searchParams), { error: 'access_denied', state: denied.checks.expectedState })
  await t.rejects(grant(config, denied), { code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR', error: 'access_denied' })

  const noPkce = await signIn(provider, config, { pkce: false })
  t.match(Object.fromEntries(noPkce.callback.searchParams), { error: 'invalid_request', error_description: /requires PKCE/ })
  await t.rejects(provider.signIn(`${provider.issuer}/auth?client_id=${provider.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('http://elsewhere.test/cb')}`),
    /signIn: 400 .*invalid_redirect_uri/, 'an unregistered redirect_uri gets the provider\'s own error page')
})

t.test('client_secret_post: the client must send its secret in the body', async t => {
  const provider = await standIn(t, { tokenEndpointAuthMethod: 'client_secret_post', clientId: 'post-client', clientSecret: 'post-secret-0123456789' })
  const post = (await discover(provider, client.ClientSecretPost(provider.clientSecret))).config
  t.ok((await grant(post, await signIn(provider, post))).id_token)
  t.match(provider.requests.findLast(request => request.path === '/token')?.form, { client_id: 'post-client', client_secret: 'post-secret-0123456789' })
  const basic = (await discover(provider)).config
  await t.rejects(grant(basic, await signIn(provider, basic)), { code: 'OAUTH_RESPONSE_BODY_ERROR', error: 'invalid_client', status: 401 })
})

interface Case {
  mode: Misbehaviour
  shows: (token: { header: JwtPart, payload: JwtPart }, provider: OidcStandIn, raw: string) => boolean
  /** Whether the token still carries a valid signature by the provider's key (so only the claim is wrong). */
  signed: boolean
  error: { code: string, cause: { message: RegExp } } | null
}

const now = (): number => Math.floor(Date.now() / 1000)
const ID_TOKEN_CASES: Case[] = [
  { mode: 'wrong-issuer', signed: true, shows: ({ payload }, p) => payload.iss !== p.issuer, error: { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: { message: /"iss"/ } } },
  { mode: 'wrong-audience', signed: true, shows: ({ payload }) => payload.aud === 'another-client', error: { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: { message: /"aud"/ } } },
  { mode: 'extra-audience', signed: true, shows: ({ payload }, p) => JSON.stringify(payload.aud) === JSON.stringify([p.clientId, 'another-client']) && !('azp' in payload), error: { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: { message: /"aud"|"azp"/ } } },
  { mode: 'bad-nonce', signed: true, shows: ({ payload }) => payload.nonce === 'not-the-nonce-that-was-sent', error: { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: { message: /"nonce"/ } } },
  { mode: 'no-nonce', signed: true, shows: ({ payload }) => !('nonce' in payload), error: { code: 'OAUTH_INVALID_RESPONSE', cause: { message: /"nonce" \(nonce\) claim missing/ } } },
  { mode: 'expired', signed: true, shows: ({ payload }) => Number(payload.exp) < now() - 3000, error: { code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', cause: { message: /"exp"/ } } },
  { mode: 'alg-none', signed: false, shows: ({ header }, _p, raw) => header.alg === 'none' && raw.endsWith('.'), error: { code: 'OAUTH_INVALID_RESPONSE', cause: { message: /"alg"/ } } },
  {
    mode: 'hs256-client-secret',
    signed: false,
    shows: ({ header }, p, raw) => header.alg === 'HS256' && raw.split('.')[2] === createHmac('sha256', p.clientSecret).update(raw.split('.').slice(0, 2).join('.')).digest('base64url'),
    error: { code: 'OAUTH_INVALID_RESPONSE', cause: { message: /"alg"/ } }
  },
  // openid-client takes these two: a token endpoint's ID token over TLS need not be verified
  // (OpenID Connect Core §3.1.3.7), and nothing bounds iat. See the tests below.
  { mode: 'bad-signature', signed: false, shows: ({ header }, _p, raw) => header.alg === 'RS256' && raw.split('.')[2]?.length === 342 /* 2048 bits */, error: null },
  { mode: 'iat-week-old', signed: true, shows: ({ payload }) => Number(payload.iat) < now() - 6 * 86400 && Number(payload.exp) > now(), error: null }
]

t.test('misbehaving ID tokens: each one is what its name says, and openid-client refuses it', async t => {
  const provider = await standIn(t)
  const { config, tokenAnswers } = await discover(provider)
  for (const { mode, shows, signed, error } of ID_TOKEN_CASES) {
    provider.misbehave = mode
    const login = await signIn(provider, config)
    const outcome = grant(config, login)
    if (error === null) await t.resolves(outcome, `${mode}: accepted by openid-client`)
    else await t.rejects(outcome, error, `${mode}: refused`)
    const raw = String(tokenAnswers.at(-1)?.id_token)
    t.ok(shows(decodeJwt(raw), provider, raw), `${mode}: the ID token shows it`)
    t.equal(await signedByProvider(config, raw), signed, `${mode}: ${signed ? 'validly signed by the provider\'s key' : 'not signed by the provider\'s key'}`)
    t.ok(isJwt(String(tokenAnswers.at(-1)?.access_token)), `${mode}: the access token is untouched`)
  }
  provider.misbehave = null
  t.ok((await grant(config, await signIn(provider, config))).id_token, 'back to normal')
})

t.test('bad-signature is refused once non-repudiation checks are on; iat-week-old only by the client\'s own bound', async t => {
  const provider = await standIn(t)
  const { config } = await discover(provider)
  client.enableNonRepudiationChecks(config)
  provider.misbehave = 'bad-signature'
  await t.rejects(grant(config, await signIn(provider, config)), { code: 'OAUTH_INVALID_RESPONSE', cause: { message: /signature/i } })
  provider.misbehave = 'iat-week-old'
  const tokens = await grant(config, await signIn(provider, config))
  t.ok(now() - Number(tokens.claims()?.iat) > 6 * 86400, 'a week-old iat passes even the signature check: bound it in the plugin')
})

t.test('userinfo-other-sub, access-token-opaque and discovery-issuer-mismatch', async t => {
  const provider = await standIn(t)
  const { config } = await discover(provider)
  provider.misbehave = 'userinfo-other-sub'
  const tokens = await grant(config, await signIn(provider, config))
  t.ok(tokens.id_token, 'the token response is untouched')
  await t.rejects(client.fetchUserInfo(config, tokens.access_token, provider.account.sub), { code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', cause: { message: /"sub"/ } })

  provider.misbehave = 'access-token-opaque'
  const opaque = await grant(config, await signIn(provider, config))
  t.notOk(isJwt(opaque.access_token), 'an opaque access token')
  t.same(await client.fetchUserInfo(config, opaque.access_token, provider.account.sub), { ...provider.account.claims, sub: provider.account.sub }, 'userinfo takes it')

  provider.misbehave = 'discovery-issuer-mismatch'
  const document = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json() as JwtPart
  t.not(document.issuer, provider.issuer)
  await t.rejects(discover(provider), { code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', message: /issuer/ })
  provider.misbehave = null
  t.ok(await discover(provider))
})

t.test('stop and start: refused while down, then back on the same port with its state', async t => {
  const provider = await standIn(t)
  const { config } = await discover(provider)
  const login = await signIn(provider, config)
  await provider.stop()
  await t.rejects(discover(provider), { cause: { code: 'ECONNREFUSED' } })
  await provider.start()
  t.ok((await grant(config, login)).id_token, 'a code issued before the stop is still good')
  t.ok(await discover(provider))
})

t.test('issuerPath: every endpoint below it, discovery at <issuer>/.well-known/openid-configuration', async t => {
  const provider = await standIn(t, { issuerPath: '/tenant/v2.0', endSession: true })
  t.match(provider.issuer, /^http:\/\/127\.0\.0\.1:\d+\/tenant\/v2\.0$/)
  const { config } = await discover(provider)
  t.equal(provider.requests[0]?.path, '/tenant/v2.0/.well-known/openid-configuration')
  t.match(config.serverMetadata(), { issuer: provider.issuer, token_endpoint: `${provider.issuer}/token`, end_session_endpoint: `${provider.issuer}/session/end` })
  const tokens = await grant(config, await signIn(provider, config))
  t.equal(tokens.claims()?.iss, provider.issuer)
  t.match(await client.fetchUserInfo(config, tokens.access_token, provider.account.sub), { sub: provider.account.sub })
  t.ok(provider.requests.every(request => request.path.startsWith('/tenant/v2.0/')), 'nothing outside the issuer path')
  t.equal((await fetch(new URL('/.well-known/openid-configuration', provider.issuer))).status, 404)
  const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'http://127.0.0.1:3080/login' })
  t.equal((await fetch(logout)).status, 200, 'end_session_endpoint answers its confirmation page')
})
