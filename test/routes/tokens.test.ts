import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { createSigner } from 'fast-jwt'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { alice, build, login, REFRESH_SECRET, refreshCookieOf, register, registerAndLogin, SECRET, SERVER } from '../helpers/app.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }
type Claims = Record<string, unknown>

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()
const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** A JWT assembled by hand, HMAC-SHA256-signed with `key` (no signature when `key` is null). */
function forge (header: unknown, payload: unknown, key: string | null = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${key === null ? '' : createHmac('sha256', key).update(input).digest('base64url')}`
}

function segment (token: string, index: number): Claims {
  const part = token.split('.')[index] ?? ''
  const parsed: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object')
  return parsed as Claims
}
const headerOf = (token: string): Claims => segment(token, 0)
const claimsOf = (token: string): Claims => segment(token, 1)

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

function bearer (app: FastifyInstance, token: string, url = '/api/protected'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
}

/** The right way to sign an access token, the baseline every forged variant departs from. */
const signAccess = createSigner({ key: SECRET, algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } })

type Tap = Test

/** A logged-in user and the claims of their real access token. */
async function session (t: Tap, options: Parameters<typeof build>[1] = {}): Promise<{ app: FastifyInstance, events: Awaited<ReturnType<typeof build>>['events'], token: string, refresh: string, claims: Claims }> {
  const { app, events } = await build(t, options)
  const { token, refresh } = await registerAndLogin(app)
  events.all.length = 0
  return { app, events, token, refresh, claims: claimsOf(token) }
}

/** Asserts every token gets the generic 401 on a protected route, and that the baseline still passes. */
async function refusesAll (t: Tap, app: FastifyInstance, cases: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [label, token] of cases) {
    const response = await bearer(app, token)
    t.equal(response.statusCode, 401, label)
    t.equal(response.statusCode < 500 ? errorOf(response).code : 'a 5xx', 'FST_LCAUTH_UNAUTHORIZED', `${label}: generic code`)
    t.notOk(token.length > 20 && response.body.includes(token.slice(-20)), `${label}: the token is not echoed`)
  }
}

t.test('JWT-01: only HS256 verifies', async t => {
  const { app, events, claims } = await session(t)
  t.equal((await bearer(app, signAccess(claims))).statusCode, 200, 'control: the baseline signer passes')
  t.equal((await bearer(app, forge({ alg: 'HS256', typ: 'at+jwt' }, claims))).statusCode, 200, 'control: so does a hand-made HS256 token')

  await refusesAll(t, app, [
    ['alg none', createSigner({ algorithm: 'none', header: { alg: 'none', typ: 'at+jwt' } })(claims)],
    ['alg None', forge({ alg: 'None', typ: 'at+jwt' }, claims, null)],
    ['alg NONE with an HS256 signature', forge({ alg: 'NONE', typ: 'at+jwt' }, claims)],
    ['no alg at all', forge({ typ: 'at+jwt' }, claims)],
    ['HS512 with the right secret', createSigner({ key: SECRET, algorithm: 'HS512', header: { alg: 'HS512', typ: 'at+jwt' } })(claims)],
    ['HS384 with the right secret', createSigner({ key: SECRET, algorithm: 'HS384', header: { alg: 'HS384', typ: 'at+jwt' } })(claims)],
    ['alg hs256', forge({ alg: 'hs256', typ: 'at+jwt' }, claims)],
    ['alg Hs256', forge({ alg: 'Hs256', typ: 'at+jwt' }, claims)],
    ['alg hS256', forge({ alg: 'hS256', typ: 'at+jwt' }, claims)],
    ['alg "HS256 "', forge({ alg: 'HS256 ', typ: 'at+jwt' }, claims)],
    ['alg as an array', forge({ alg: ['HS256'], typ: 'at+jwt' }, claims)]
  ])
  const denied = events.take('access.denied')
  t.equal(denied.length, 11)
  t.ok(denied.every(e => e.reason === 'invalid'), 'each refusal is an access.denied event with reason invalid')
})

t.test('JWT-02: key material named in the token header is never trusted', async t => {
  const { app, claims } = await session(t)
  let outbound = 0
  const countSocket = (): void => { outbound++ }
  diagnostics.subscribe('net.client.socket', countSocket)
  const realFetch = globalThis.fetch
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    outbound++
    return realFetch(...args)
  }
  t.teardown(() => {
    diagnostics.unsubscribe('net.client.socket', countSocket)
    globalThis.fetch = realFetch
  })

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const attackerPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const jwk = publicKey.export({ format: 'jwk' })
  const rs256 = (header: Claims): string => createSigner({ key: attackerPem, algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', ...header } })(claims)
  const attackerSecret = 'attacker-secret-0123456789abcdef-0123456789'
  const hs256 = (header: Claims, key = attackerSecret): string => forge({ alg: 'HS256', typ: 'at+jwt', ...header }, claims, key)

  await refusesAll(t, app, [
    ['embedded jwk, RS256 with the attacker key', rs256({ jwk })],
    ['embedded jwk as an oct key of the attacker secret', hs256({ jwk: { kty: 'oct', k: b64(attackerSecret) } })],
    ['jku to an attacker JWKS', rs256({ jku: 'https://evil.test/.well-known/jwks.json' })],
    ['jku, HS256', hs256({ jku: 'https://evil.test/jwks.json' })],
    ['x5u to an attacker certificate', rs256({ x5u: 'https://evil.test/cert.pem' })],
    ['x5c with attacker junk', rs256({ x5c: [randomBytes(600).toString('base64')] })],
    ['kid ../../dev/null, signed with an empty key', hs256({ kid: '../../dev/null' }, '')],
    ['kid ../../dev/null, attacker secret', hs256({ kid: '../../dev/null' })],
    ["kid ' OR 1=1 --", hs256({ kid: "' OR 1=1 --" })],
    ['kid of 10 kB junk', hs256({ kid: randomBytes(7500).toString('base64') })]
  ])
  await new Promise(resolve => setImmediate(resolve))
  t.equal(outbound, 0, 'no outbound request was made')
})

t.test('JWT-03: claims are validated', async t => {
  const { app, events, claims } = await session(t)
  const now = nowSeconds()
  t.equal((await bearer(app, signAccess({ ...claims }))).statusCode, 200, 'control: the real claims pass')
  const { exp: _exp, ...withoutExp } = claims

  await refusesAll(t, app, [
    ['expired by a second', signAccess({ ...claims, iat: now - 901, exp: now - 1 })],
    ['expired long ago', signAccess({ ...claims, iat: now - 86_400, exp: now - 85_500 })],
    ['nbf in the future', signAccess({ ...claims, nbf: now + 300 })],
    ['exp missing', signAccess(withoutExp)],
    ['wrong iss', signAccess({ ...claims, iss: 'https://evil.test' })],
    ['iss with a trailing slash', signAccess({ ...claims, iss: `${SERVER}/` })],
    ['iss as an array', signAccess({ ...claims, iss: ['https://evil.test', SERVER] })],
    ['iss as a one-element array', signAccess({ ...claims, iss: [SERVER] })],
    ['iss missing', signAccess({ ...claims, iss: undefined })],
    ['payload is a JSON array', forge({ alg: 'HS256', typ: 'at+jwt' }, [claims])],
    ['payload is a JSON array of pairs', forge({ alg: 'HS256', typ: 'at+jwt' }, Object.entries(claims))],
    ['payload is a string', forge({ alg: 'HS256', typ: 'at+jwt' }, JSON.stringify(JSON.stringify(claims)))],
    ['sub is a number', signAccess({ ...claims, sub: 12345 })],
    ['sub is an object', signAccess({ ...claims, sub: { id: claims.sub } })],
    ['sub missing', signAccess({ ...claims, sub: undefined })],
    ['sid missing', signAccess({ ...claims, sid: undefined })]
  ])
  t.equal(events.take('access.denied').length, 16)
})

t.test('JWT-04: other tokens are not access tokens', async t => {
  const { app, claims, refresh } = await session(t)
  t.equal((await bearer(app, signAccess(claims))).statusCode, 200, 'control')
  await refusesAll(t, app, [
    ['the refresh token', refresh],
    ['a random opaque string', randomBytes(32).toString('base64url')],
    ['typ JWT', createSigner({ key: SECRET, algorithm: 'HS256', header: { alg: 'HS256', typ: 'JWT' } })(claims)],
    ['no typ', forge({ alg: 'HS256' }, claims)],
    ['typ refresh+jwt', forge({ alg: 'HS256', typ: 'refresh+jwt' }, claims)],
    ['signed with the refresh secret', createSigner({ key: REFRESH_SECRET, algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } })(claims)]
  ])
})

t.test('JWT-05: only an Authorization Bearer header carries the token', async t => {
  const { app, token } = await session(t)
  t.equal((await bearer(app, token)).statusCode, 200, 'control: the Bearer header works')
  t.equal((await app.inject({ url: '/api/protected', headers: { authorization: `bearer ${token}` } })).statusCode, 200, 'the scheme is case-insensitive')

  const attempts: Array<[string, { url: string, headers?: Record<string, string> }]> = [
    ['?access_token=', { url: `/api/protected?access_token=${token}` }],
    ['?token=', { url: `/api/protected?token=${token}` }],
    ['access_token cookie', { url: '/api/protected', headers: { cookie: `access_token=${token}` } }],
    ['token cookie', { url: '/api/protected', headers: { cookie: `token=${token}` } }],
    ['refreshToken cookie holding the access token', { url: '/api/protected', headers: { cookie: `refreshToken=${token}` } }],
    ['Authorization cookie', { url: '/api/protected', headers: { cookie: `Authorization=Bearer%20${token}` } }],
    ['Authorization without a scheme', { url: '/api/protected', headers: { authorization: token } }],
    ['Authorization Basic', { url: '/api/protected', headers: { authorization: `Basic ${token}` } }],
    ['Authorization Token', { url: '/api/protected', headers: { authorization: `Token ${token}` } }],
    ['x-access-token header', { url: '/api/protected', headers: { 'x-access-token': token } }]
  ]
  for (const [label, request] of attempts) {
    const response = await app.inject(request)
    t.equal(response.statusCode, 401, label)
    t.equal(errorOf(response).code, 'FST_LCAUTH_UNAUTHORIZED')
  }
})

t.test('JWT-05: malformed and tampered tokens are 401, never 5xx', async t => {
  const { app, token, claims } = await session(t)
  const [header = '', payload = '', signature = ''] = token.split('.')
  const flip = (part: string, index: number): string => {
    const bytes = Buffer.from(part, 'base64url')
    bytes[index] = (bytes[index] ?? 0) ^ 1
    return bytes.toString('base64url')
  }
  const bigHeader = forge({ alg: 'HS256', typ: 'at+jwt', pad: 'x'.repeat(100 * 1024) }, claims)
  t.ok(bigHeader.length > 100 * 1024)

  await refusesAll(t, app, [
    ['one payload bit flipped', `${header}.${flip(payload, 20)}.${signature}`],
    ['one payload bit flipped at the end', `${header}.${flip(payload, Buffer.from(payload, 'base64url').length - 3)}.${signature}`],
    ['one signature bit flipped', `${header}.${payload}.${flip(signature, 5)}`],
    ['one header bit flipped', `${header.slice(0, -2)}${header.at(-2) === 'A' ? 'B' : 'A'}${header.at(-1) ?? ''}.${payload}.${signature}`],
    ['last character cut', token.slice(0, -1)],
    ['signature cut', `${header}.${payload}.`],
    ['two segments', `${header}.${payload}`],
    ['half a token', token.slice(0, Math.floor(token.length / 2))],
    ['four segments', `${token}.${signature}`],
    ['four segments, empty last', `${token}.`],
    ['non-base64url header', `${header}*.${payload}.${signature}`],
    ['base64 (not url) padding', `${header}==.${payload}.${signature}`],
    ['non-JSON segments', `${b64('not json')}.${b64('nor this')}.${signature}`],
    ['a lone dot', '.'],
    ['dots only', '...'],
    ['100 kB header, validly signed', bigHeader],
    ['100 kB of junk', 'a'.repeat(100 * 1024)]
  ])
  const huge = await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${'x.'.repeat(60 * 1024)}x` } })
  t.equal(huge.statusCode, 401, 'a 120 kB Authorization header')
})

t.test('the access token: its header, standard claims and lifetime', async t => {
  const { app } = await build(t)
  const { token } = await registerAndLogin(app)
  const header = headerOf(token)
  const claims = claimsOf(token)
  t.same(header, { alg: 'HS256', typ: 'at+jwt' })
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  t.equal(claims.sub, user?.id)
  t.equal(claims.id, user?.id, 'id repeats sub for LibreChat services')
  t.type(claims.sid, 'string')
  const stored = await app.lcauth.storage.sessions.findById(String(claims.sid))
  t.equal(stored?.userId, user?.id, 'sid names a session of this user')
  t.equal(claims.iss, SERVER)
  t.equal(claims.email, alice.email)
  t.equal(claims.role, 'ADMIN')
  t.equal(claims.provider, 'local')
  t.equal(Number(claims.exp) - Number(claims.iat), 900, 'SESSION_EXPIRY defaults to 15 minutes')
  t.notOk('aud' in claims, 'no aud (PyJWT would reject it)')

  const short = await build(t, { sessionExpiry: 60_000 })
  const shortClaims = claimsOf((await registerAndLogin(short.app)).token)
  t.equal(Number(shortClaims.exp) - Number(shortClaims.iat), 60, 'exp - iat = sessionExpiry / 1000')
})

t.test('the access token: host claims are added but cannot override the standard ones', async t => {
  const { app } = await build(t, {
    accessTokenClaims: user => ({
      sub: 'attacker', id: 'attacker', sid: 'attacker', role: 'ADMIN', iss: 'https://evil.test', email: 'evil@evil.test', exp: 9_999_999_999,
      tenant: 'acme', plan: `pro:${user.provider}`
    })
  })
  await register(app, { ...alice, email: 'first@example.test' })
  const { token } = await registerAndLogin(app)
  const claims = claimsOf(token)
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  t.match(claims, { sub: user?.id, id: user?.id, role: 'USER', iss: SERVER, email: alice.email, tenant: 'acme', plan: 'pro:local' })
  t.not(claims.sid, 'attacker')
  t.equal(Number(claims.exp) - Number(claims.iat), 900)
  const response = await bearer(app, token)
  t.equal(response.statusCode, 200)
  t.match(response.json(), { user: { id: user?.id, role: 'USER' } })
})

t.test('refresh rotates the cookie and the old token stops working', async t => {
  const { app, events, refresh } = await session(t)
  const first = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(first.statusCode, 200)
  const rotated = refreshCookieOf(first)
  t.ok(rotated)
  t.not(rotated, refresh, 'RT1 ≠ RT2')
  const body = first.json<{ token: string, user: { email: string } }>()
  t.equal(body.user.email, alice.email)
  t.equal((await bearer(app, body.token)).statusCode, 200, 'the new access token works')

  const old = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(old.statusCode, 401, 'the old token fails')
  t.equal(refreshCookieOf(old), null, 'and gets no cookie')
  const next = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${rotated ?? ''}` } })
  t.equal(next.statusCode, 200, 'the new one works')
  t.not(refreshCookieOf(next), rotated)
  t.equal(events.take('refresh.rotated').length, 2)
})

t.test('refresh: reusing an older token ends the whole session', async t => {
  let offset = 0
  const { app, events, refresh } = await session(t, { now: () => new Date(Date.now() + offset) })
  const first = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  const rotated = refreshCookieOf(first) ?? ''
  offset = 11_000 // past REFRESH_REUSE_INTERVAL (10 s): no longer a two-tab race
  const reuse = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(reuse.statusCode, 401)
  t.equal(errorOf(reuse).code, 'FST_LCAUTH_REFRESH_REUSED')
  t.match(reuse.headers['set-cookie'], /Max-Age=0/, 'the cookie is cleared')
  t.equal(events.take('refresh.reuse_detected').length, 1)
  const after = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${rotated}` } })
  t.equal(after.statusCode, 401, 'the newest token of the session is dead too')
})

t.test('logout always answers 200 and clears the cookie', async t => {
  const { app, events, refresh } = await session(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['no cookie', {}],
    ['a garbage cookie', { cookie: 'refreshToken=garbage' }],
    ['an unknown session', { cookie: `refreshToken=${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}` }],
    ['the real cookie', { cookie: `refreshToken=${refresh}` }],
    ['the real cookie again', { cookie: `refreshToken=${refresh}` }]
  ]
  for (const [label, headers] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/auth/logout', headers })
    t.equal(response.statusCode, 200, label)
    t.same(Object.keys(response.json<Claims>()), ['message'])
    const cookie = response.cookies.find(c => c.name === 'refreshToken')
    t.equal(cookie?.value, '', `${label}: the cookie is cleared`)
    t.equal(cookie?.maxAge, 0)
  }
  const logouts = events.take('logout')
  t.equal(logouts.length, 5)
  t.equal(logouts.filter(e => e.sessionId !== null).length, 1, 'only the real cookie ended a session')
  t.equal(events.take('session.revoked').length, 1)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(refreshed.statusCode, 401, 'the refresh token is dead')
})

t.test('logout: the ended session\'s access token stops working', async t => {
  const { app, token, refresh } = await session(t)
  t.equal((await bearer(app, token)).statusCode, 200, 'control')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: `refreshToken=${refresh}` } })).statusCode, 200)
  const after = await bearer(app, token)
  t.equal(after.statusCode, 401, 'revocation reaches the access token at once on the revoking instance (DESIGN §5)')
})

t.test('logout with only a bearer token, even an expired one, revokes its session', async t => {
  let offset = 0
  const now = (): Date => new Date(Date.now() + offset)
  const { app, events, token, refresh, claims } = await session(t, { now })
  const sid = String(claims.sid)

  // Bearer tokens that are not validly signed must not end anyone's session.
  for (const forged of [
    forge({ alg: 'HS256', typ: 'at+jwt' }, claims, 'not-the-secret-0123456789abcdef-0123456789'),
    createSigner({ algorithm: 'none', header: { alg: 'none', typ: 'at+jwt' } })(claims)
  ]) {
    const response = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${forged}` } })
    t.equal(response.statusCode, 200)
  }
  t.equal((await app.lcauth.storage.sessions.findById(sid))?.revokedAt, null, 'a forged bearer ended nothing')

  offset = 16 * 60_000
  t.equal((await bearer(app, token)).statusCode, 401, 'the access token has expired')
  const response = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.statusCode, 200)
  t.match(response.headers['set-cookie'], /Max-Age=0/)
  t.not((await app.lcauth.storage.sessions.findById(sid))?.revokedAt, null, 'the session is revoked')
  t.match(events.take('session.revoked'), [{ sessionId: sid, reason: 'logout' }])
  t.match(events.take('logout').at(-1), { sessionId: sid })
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(refreshed.statusCode, 401, 'its refresh token no longer works')
})

t.test('requireRole: 403 for a USER, 200 for the ADMIN', async t => {
  const { app, events } = await build(t, {}, instance => {
    instance.get('/api/admin', { preHandler: instance.lcauth.requireRole('ADMIN') }, async request => ({ id: request.authUser?.id }))
  })
  const admin = await registerAndLogin(app)
  const bob = { ...alice, email: 'bob@example.test' }
  const user = await registerAndLogin(app, bob)
  events.all.length = 0

  const allowed = await bearer(app, admin.token, '/api/admin')
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.json<{ id: string }>().id, claimsOf(admin.token).sub)

  const refused = await bearer(app, user.token, '/api/admin')
  t.equal(refused.statusCode, 403)
  t.equal(errorOf(refused).code, 'FST_LCAUTH_FORBIDDEN')

  const promoted = forge({ alg: 'HS256', typ: 'at+jwt' }, { ...claimsOf(user.token), role: 'ADMIN' }, 'not-the-secret-0123456789abcdef-0123456789')
  const forged = await bearer(app, promoted, '/api/admin')
  t.equal(forged.statusCode, 401, 'a self-promoted token is not a valid token')

  const anonymous = await app.inject({ url: '/api/admin' })
  t.equal(anonymous.statusCode, 401)
  t.equal(errorOf(anonymous).code, 'FST_LCAUTH_UNAUTHORIZED')

  t.match(events.take('access.denied'), [
    { reason: 'role', userId: claimsOf(user.token).sub },
    { reason: 'invalid', userId: null },
    { reason: 'missing', userId: null }
  ])
  t.equal((await login(app, bob.email, bob.password)).json<{ user: { role: string } }>().user.role, 'USER')
})
