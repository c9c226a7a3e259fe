import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t from 'tap'
import authPlugin, { bcryptHasher, memoryStorage, type AuthOptions, type PasswordHasher, type Storage } from '../../index.ts'
import { alice, baseOptions, build, login, refreshCookieOf, register, registerAndLogin, SERVER } from '../helpers/app.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()
const DAY = 86_400_000
const ROUTES = ['/api/auth/login', '/api/auth/register', '/api/auth/refresh', '/api/auth/logout'] as const

interface SetCookie { name: string, value: string, attributes: Map<string, string> }

/** The one Set-Cookie header of a response, parsed without any library's leniency. */
function setCookieOf (response: LightMyRequestResponse): SetCookie | null {
  const header = response.headers['set-cookie']
  const all = header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
  if (all.length > 1) throw new Error(`expected one Set-Cookie, got ${all.length}`)
  const [first] = all
  if (first === undefined) return null
  const [pair = '', ...rest] = first.split(';').map(s => s.trim())
  const eq = pair.indexOf('=')
  const attributes = new Map<string, string>()
  for (const attribute of rest) {
    const i = attribute.indexOf('=')
    attributes.set((i === -1 ? attribute : attribute.slice(0, i)).toLowerCase(), i === -1 ? '' : attribute.slice(i + 1))
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes }
}

function post (app: FastifyInstance, url: string, headers: Record<string, string> = {}, payload?: string | Record<string, unknown>): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) })
}

const validBody = (url: string): Record<string, unknown> | undefined =>
  url.endsWith('/login') ? { email: alice.email, password: alice.password } : url.endsWith('/register') ? { ...alice } : undefined

/** A memory storage whose user lookups are counted. */
function countingStorage (): { storage: Storage, counts: { findByEmail: number, create: number } } {
  const inner = memoryStorage()
  const counts = { findByEmail: 0, create: 0 }
  const storage: Storage = {
    ...inner,
    kind: inner.kind,
    users: {
      ...inner.users,
      findByEmail: async email => {
        counts.findByEmail++
        return inner.users.findByEmail(email)
      },
      create: async (user, now) => {
        counts.create++
        return inner.users.create(user, now)
      }
    }
  }
  return { storage, counts }
}

const ERROR_KEYS = ['code', 'error', 'message', 'statusCode']

/** The events a handler emits when it runs: registration, login, refresh and logout outcomes. */
const outcomes = (names: readonly string[]): string[] => names.filter(n => /^(register|login|refresh|logout|session|password)\./.test(n) || n === 'logout')

t.test('HDR-01: the refresh cookie is HttpOnly, SameSite=Strict, Path=/, host-only, and lives no longer than the session', async t => {
  let offset = 0
  const { app } = await build(t, { sessionMaxAge: DAY, refreshTokenExpiry: 7 * DAY, now: () => new Date(Date.now() + offset) })
  const { response } = await registerAndLogin(app)

  const cookie = setCookieOf(response)
  t.equal(cookie?.name, 'refreshToken', 'plain name over http')
  t.ok(cookie?.attributes.has('httponly'), 'HttpOnly')
  t.equal(cookie?.attributes.get('samesite'), 'Strict')
  t.equal(cookie?.attributes.get('path'), '/')
  t.notOk(cookie?.attributes.has('domain'), 'no Domain')
  t.notOk(cookie?.attributes.has('secure'), 'not Secure over plain http')
  const loginAge = Number(cookie?.attributes.get('max-age'))
  t.ok(loginAge > DAY / 1000 - 5 && loginAge <= DAY / 1000, `Max-Age ${loginAge} is capped by the 1-day absolute lifetime, not the 7-day sliding one`)

  offset = 23 * 3_600_000
  const refreshed = await post(app, '/api/auth/refresh', { cookie: `refreshToken=${cookie?.value ?? ''}` })
  t.equal(refreshed.statusCode, 200)
  const rotated = setCookieOf(refreshed)
  const refreshAge = Number(rotated?.attributes.get('max-age'))
  t.ok(refreshAge > 3595 && refreshAge <= 3600, `after 23 hours Max-Age ${refreshAge} is the hour left`)
  t.ok(rotated?.attributes.has('httponly'))
  t.equal(rotated?.attributes.get('samesite'), 'Strict')
  t.equal(rotated?.attributes.get('path'), '/')
  t.notOk(rotated?.attributes.has('domain'))

  const cleared = setCookieOf(await post(app, '/api/auth/logout', { cookie: `refreshToken=${rotated?.value ?? ''}` }))
  t.equal(cleared?.name, 'refreshToken')
  t.equal(cleared?.value, '')
  t.equal(cleared?.attributes.get('max-age'), '0')
  t.ok(cleared?.attributes.has('httponly'), 'cleared with the same attributes')
  t.equal(cleared?.attributes.get('samesite'), 'Strict')
  t.equal(cleared?.attributes.get('path'), '/')
  t.notOk(cleared?.attributes.has('domain'))
  t.notOk(cleared?.attributes.has('secure'))

  const sliding = await build(t, { refreshTokenExpiry: 3_600_000 })
  const slidingAge = Number(setCookieOf((await registerAndLogin(sliding.app)).response)?.attributes.get('max-age'))
  t.ok(slidingAge > 3595 && slidingAge <= 3600, 'and by the sliding lifetime when that is shorter')
})

t.test('HDR-01: over https the cookie is __Host-refreshToken and Secure, and only that name is read', async t => {
  const { app } = await build(t, { domainServer: 'https://chat.example.test' })
  const { response } = await registerAndLogin(app)
  const cookie = setCookieOf(response)
  t.equal(cookie?.name, '__Host-refreshToken')
  t.ok(cookie?.attributes.has('secure'), 'Secure')
  t.ok(cookie?.attributes.has('httponly'))
  t.equal(cookie?.attributes.get('samesite'), 'Strict')
  t.equal(cookie?.attributes.get('path'), '/', '__Host- needs Path=/')
  t.notOk(cookie?.attributes.has('domain'), '__Host- forbids Domain')
  const token = cookie?.value ?? ''

  const wrongName = await post(app, '/api/auth/refresh', { cookie: `refreshToken=${token}` })
  t.equal(wrongName.statusCode, 401, 'the unprefixed name is not read')
  const refreshed = await post(app, '/api/auth/refresh', { cookie: `__Host-refreshToken=${token}` })
  t.equal(refreshed.statusCode, 200)
  const rotated = setCookieOf(refreshed)
  t.equal(rotated?.name, '__Host-refreshToken')
  t.ok(rotated?.attributes.has('secure'))

  const failed = setCookieOf(await post(app, '/api/auth/refresh', { cookie: '__Host-refreshToken=garbage' }))
  t.equal(failed?.name, '__Host-refreshToken', 'a failed refresh clears the same cookie')
  t.equal(failed?.attributes.get('max-age'), '0')
  t.ok(failed?.attributes.has('secure'))

  const cleared = setCookieOf(await post(app, '/api/auth/logout', { cookie: `__Host-refreshToken=${rotated?.value ?? ''}` }))
  t.equal(cleared?.name, '__Host-refreshToken')
  t.equal(cleared?.attributes.get('max-age'), '0')
  t.ok(cleared?.attributes.has('secure'), 'cleared with the same attributes')
  t.ok(cleared?.attributes.has('httponly'))
  t.equal(cleared?.attributes.get('samesite'), 'Strict')
  t.equal(cleared?.attributes.get('path'), '/')
  t.notOk(cleared?.attributes.has('domain'))
})

t.test('HDR-01: sessionCookieSecure overrides the scheme', async t => {
  const insecure = await build(t, { domainServer: 'https://chat.example.test', sessionCookieSecure: false })
  const plain = setCookieOf((await registerAndLogin(insecure.app)).response)
  t.equal(plain?.name, 'refreshToken')
  t.notOk(plain?.attributes.has('secure'))

  const secure = await build(t, { sessionCookieSecure: true })
  const hardened = setCookieOf((await registerAndLogin(secure.app)).response)
  t.equal(hardened?.name, '__Host-refreshToken')
  t.ok(hardened?.attributes.has('secure'))
  t.equal((await post(secure.app, '/api/auth/refresh', { cookie: `__Host-refreshToken=${hardened?.value ?? ''}` })).statusCode, 200)
})

t.test('HDR-02: auth responses are never cached', async t => {
  const { app } = await build(t)
  const responses: Array<[string, LightMyRequestResponse]> = []
  responses.push(['register', await register(app)])
  const loggedIn = await login(app)
  responses.push(['login', loggedIn])
  const refreshed = await post(app, '/api/auth/refresh', { cookie: `refreshToken=${refreshCookieOf(loggedIn) ?? ''}` })
  responses.push(['refresh', refreshed])
  const token = refreshed.json<{ token: string }>().token
  responses.push(['GET /api/user', await app.inject({ url: '/api/user', headers: { authorization: `Bearer ${token}` } })])
  responses.push(['logout', await post(app, '/api/auth/logout', { cookie: `refreshToken=${refreshCookieOf(refreshed) ?? ''}` })])
  responses.push(['login 401', await login(app, alice.email, 'wrong one here')])
  responses.push(['register 400', await register(app, { ...alice, name: 'x' })])
  responses.push(['refresh 401', await post(app, '/api/auth/refresh')])
  responses.push(['GET /api/user 401', await app.inject({ url: '/api/user' })])
  responses.push(['415', await post(app, '/api/auth/login', { 'content-type': 'text/plain' }, 'hello')])
  responses.push(['invalid JSON', await post(app, '/api/auth/login', { 'content-type': 'application/json' }, '{')])
  responses.push(['413', await post(app, '/api/auth/login', {}, { email: alice.email, password: 'x'.repeat(20_000) })])
  responses.push(['cross-site 403', await post(app, '/api/auth/login', { origin: 'https://evil.test' }, { email: alice.email, password: alice.password })])
  for (const [label, response] of responses) {
    t.match(response.headers['cache-control'], /(^|,\s*)no-store(\s*,|$)/, `${label} (${response.statusCode}): Cache-Control no-store`)
  }
  t.same(responses.slice(0, 5).map(([, r]) => r.statusCode), [200, 200, 200, 200, 200])
})

t.test('HDR-04: a cross-site Origin is refused on login, refresh, logout and register, and no cookie is touched', async t => {
  const { app, events } = await build(t)
  const { refresh } = await registerAndLogin(app)
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  const liveBefore = (await app.lcauth.storage.sessions.listLiveByUser(user?.id ?? '', new Date())).length
  events.all.length = 0

  for (const origin of ['https://evil.test', 'null', 'http://127.0.0.1:3081', 'https://127.0.0.1:3080', 'http://127.0.0.1']) {
    for (const url of ROUTES) {
      const body = url.endsWith('/register') ? { ...alice, email: 'new@example.test' } : validBody(url)
      const response = await post(app, url, { origin, cookie: `refreshToken=${refresh}` }, body)
      t.equal(response.statusCode, 403, `${url} from ${origin}`)
      t.equal(errorOf(response).code, 'FST_LCAUTH_CROSS_SITE')
      t.equal(response.headers['set-cookie'], undefined, 'no Set-Cookie')
    }
  }
  t.same(outcomes(events.names()), [], 'nothing happened: no login, rotation, logout or registration')
  t.equal(await app.lcauth.storage.users.findByEmail('new@example.test'), null)
  t.equal((await app.lcauth.storage.sessions.listLiveByUser(user?.id ?? '', new Date())).length, liveBefore, 'no session created or ended')
  const still = await post(app, '/api/auth/refresh', { cookie: `refreshToken=${refresh}` })
  t.equal(still.statusCode, 200, 'the refresh cookie was neither rotated nor revoked')
})

t.test('HDR-04: Sec-Fetch-Site cross-site is refused; same-origin, configured client origin and no headers pass', async t => {
  const { app } = await build(t, { domainClient: 'http://localhost:3090' })
  await register(app)

  for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.test', 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'something-else' }]) {
    for (const url of ROUTES) {
      const response = await post(app, url, headers, validBody(url) ?? {})
      t.equal(response.statusCode, 403, `${url} with ${JSON.stringify(headers)}`)
      t.equal(errorOf(response).code, 'FST_LCAUTH_CROSS_SITE')
      t.equal(response.headers['set-cookie'], undefined)
    }
  }

  const allowed: Array<Record<string, string>> = [
    {},
    { origin: SERVER },
    { origin: 'http://localhost:3090' },
    { 'sec-fetch-site': 'same-origin' },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'none' },
    { origin: SERVER, 'sec-fetch-site': 'same-origin' }
  ]
  for (const headers of allowed) {
    const response = await login(app, alice.email, alice.password, headers)
    t.equal(response.statusCode, 200, `login with ${JSON.stringify(headers)}`)
    const refreshed = await post(app, '/api/auth/refresh', { ...headers, cookie: `refreshToken=${refreshCookieOf(response) ?? ''}` })
    t.equal(refreshed.statusCode, 200, `refresh with ${JSON.stringify(headers)}`)
    const out = await post(app, '/api/auth/logout', { ...headers, cookie: `refreshToken=${refreshCookieOf(refreshed) ?? ''}` })
    t.equal(out.statusCode, 200, `logout with ${JSON.stringify(headers)}`)
  }
})

t.test('HDR-04: only JSON bodies are accepted (415), and GET on the POST routes is 404', async t => {
  const { app } = await build(t)
  await register(app)
  const bodies: Array<[string, string]> = [
    ['text/plain', JSON.stringify({ email: alice.email, password: alice.password })],
    ['text/plain;charset=UTF-8', JSON.stringify({ email: alice.email, password: alice.password })],
    ['application/x-www-form-urlencoded', `email=${encodeURIComponent(alice.email)}&password=${encodeURIComponent(alice.password)}`],
    ['multipart/form-data; boundary=xyz', `--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\n${alice.email}\r\n--xyz--\r\n`],
    ['application/xml', '<login/>']
  ]
  for (const url of ROUTES) {
    for (const [type, payload] of bodies) {
      const response = await post(app, url, { 'content-type': type }, payload)
      t.equal(response.statusCode, 415, `${url} with ${type}`)
      t.equal(errorOf(response).code, 'FST_LCAUTH_UNSUPPORTED_MEDIA_TYPE')
      t.equal(response.headers['set-cookie'], undefined)
    }
    const get = await app.inject({ method: 'GET', url })
    t.equal(get.statusCode, 404, `GET ${url} is the host's 404`)
  }
  const json = await post(app, '/api/auth/login', { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ email: alice.email, password: alice.password }))
  t.equal(json.statusCode, 200, 'control: JSON with a charset is fine')
})

t.test('INP-01: bodies over 16 KiB are refused with 413', async t => {
  const inner = bcryptHasher({ rounds: 4 })
  const counts = { calls: 0 }
  const hasher: PasswordHasher = {
    hash: async password => {
      counts.calls++
      return inner.hash(password)
    },
    verify: async (password, stored) => {
      counts.calls++
      return inner.verify(password, stored)
    },
    needsRehash: stored => inner.needsRehash(stored)
  }
  const { app, events } = await build(t, { hasher })
  counts.calls = 0 // the plugin hashes its dummy password when it starts
  const padding = 'x'.repeat(17 * 1024)
  for (const url of ROUTES) {
    const response = await post(app, url, {}, { ...validBody(url), padding })
    t.equal(response.statusCode, 413, url)
    t.equal(errorOf(response).code, 'FST_LCAUTH_BODY_TOO_LARGE')
  }
  const under = await post(app, '/api/auth/login', {}, { email: alice.email, password: 'x'.repeat(15 * 1024) })
  t.equal(under.statusCode, 400, 'control: 15 KiB gets past the limit (and fails validation)')
  t.same(outcomes(events.names()), [], 'no handler ran')
  t.equal(counts.calls, 0, 'nothing was hashed')

  const small = await build(t, { bodyLimit: 2048 })
  const tooBig = await post(small.app, '/api/auth/login', {}, { email: alice.email, password: 'x'.repeat(3000) })
  t.equal(tooBig.statusCode, 413, 'the bodyLimit option lowers it')
})

t.test('INP-02: non-string email or password is a 400 before any storage lookup', async t => {
  const { storage, counts } = countingStorage()
  const { app } = await build(t, { storage })
  const shapes: unknown[] = [{ $ne: null }, { $gt: '' }, ['alice@example.test'], [], 12345678, 0, true, false, null, { a: { b: { c: 1 } } }]
  for (const bad of shapes) {
    for (const field of ['email', 'password'] as const) {
      const payload = { email: alice.email, password: alice.password, [field]: bad }
      const loginResponse = await post(app, '/api/auth/login', {}, payload)
      t.equal(loginResponse.statusCode, 400, `login ${field}=${JSON.stringify(bad)}`)
      t.equal(errorOf(loginResponse).code, 'FST_LCAUTH_VALIDATION')
      const registerResponse = await post(app, '/api/auth/register', {}, { ...alice, [field]: bad })
      t.equal(registerResponse.statusCode, 400, `register ${field}=${JSON.stringify(bad)}`)
      t.equal(errorOf(registerResponse).code, 'FST_LCAUTH_VALIDATION')
    }
  }
  const missing = await post(app, '/api/auth/login', {}, { email: alice.email })
  t.equal(missing.statusCode, 400, 'a missing password')
  t.same(counts, { findByEmail: 0, create: 0 }, 'storage was never queried')

  t.equal((await login(app, alice.email, 'a wrong one')).statusCode, 401)
  t.equal(counts.findByEmail, 1, 'control: a well-typed login does look the user up')
})

t.test('INP-03: prototype-pollution bodies are refused and change nothing', async t => {
  const { app, events } = await build(t)
  await register(app)
  events.all.length = 0
  const creds = `"email":"${alice.email}","password":"${alice.password}"`
  const bodies = [
    `{"__proto__":{"isAdmin":true,"role":"ADMIN"},${creds}}`,
    `{${creds},"__proto__":{"isAdmin":true}}`,
    `{"constructor":{"prototype":{"isAdmin":true}},${creds}}`,
    `{${creds},"constructor":{"prototype":{"isAdmin":true}}}`
  ]
  for (const url of ['/api/auth/login', '/api/auth/register', '/api/auth/refresh', '/api/auth/logout']) {
    for (const body of bodies) {
      const response = await post(app, url, { 'content-type': 'application/json' }, body)
      t.equal(response.statusCode, 400, `${url} ${body.slice(0, 30)}`)
      t.match(errorOf(response).code, /^FST_LCAUTH_(INVALID_JSON|VALIDATION|BAD_REQUEST)$/)
      t.equal(response.headers['set-cookie'], undefined)
      t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is clean')
    }
  }
  t.same(outcomes(events.names()), [], 'no handler ran')

  for (const query of ['__proto__[isAdmin]=1', 'constructor[prototype][isAdmin]=1', '__proto__.isAdmin=1']) {
    const response = await app.inject({ method: 'POST', url: `/api/auth/login?${query}`, payload: { email: alice.email, password: alice.password } })
    t.equal(response.statusCode, 200, `?${query} has no effect`)
    t.equal(response.json<{ user: { role: string } }>().user.role, 'ADMIN')
    t.equal(({} as Record<string, unknown>).isAdmin, undefined)
  }
})

t.test('INP-03: the plugin keeps its own poisoning protection whatever the host configures', async t => {
  const app = Fastify({ logger: false, onProtoPoisoning: 'ignore', onConstructorPoisoning: 'ignore' })
  t.teardown(() => app.close())
  await app.register(authPlugin, baseOptions)
  await app.ready()
  const response = await post(app, '/api/auth/register', { 'content-type': 'application/json' },
    `{"__proto__":{"isAdmin":true},"name":"${alice.name}","email":"${alice.email}","password":"${alice.password}","confirm_password":"${alice.password}"}`)
  t.equal(response.statusCode, 400)
  t.equal(await app.lcauth.storage.users.findByEmail(alice.email), null)
  t.equal(({} as Record<string, unknown>).isAdmin, undefined)
})

t.test('INP-03: a poisoned options object does not change the plugin\'s behaviour', async t => {
  const poison = '{"allowRegistration":false,"allowEmailLogin":false,"minPasswordLength":100,"sessionCookieSecure":true,"production":true,"isAdmin":true}'
  const poisoned: unknown = JSON.parse(`{"__proto__":${poison},"constructor":{"prototype":${poison}},${JSON.stringify(baseOptions).slice(1)}`)
  t.ok(Object.hasOwn(poisoned as object, '__proto__'), 'the __proto__ key is an own property, as JSON.parse makes it')

  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(authPlugin, poisoned as AuthOptions)
  await app.ready()
  t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is clean')
  t.equal(({} as Record<string, unknown>).allowRegistration, undefined)
  t.match(app.lcauth.config, { allowRegistration: true, allowEmailLogin: true, minPasswordLength: 8, sessionCookieSecure: false, production: false })

  t.equal((await register(app)).statusCode, 200, 'registration is still open, with the default minimum')
  const response = await login(app)
  t.equal(response.statusCode, 200, 'email login is still on')
  t.equal(setCookieOf(response)?.name, 'refreshToken')

  const spread = await build(t, poisoned as Partial<AuthOptions>)
  t.equal((await register(spread.app)).statusCode, 200, 'the same through an options spread')
})

t.test('INP-04: 100 kB adversarial inputs are answered with a 4xx at once', async t => {
  const huge = [
    'a'.repeat(1e5) + '@',
    'a.'.repeat(5e4),
    '@'.repeat(1e5),
    'a@' + '-'.repeat(1e5) + '.test',
    'a@' + 'a-'.repeat(5e4) + '.test',
    '"' + 'a'.repeat(1e5) + '"@x.test',
    '😀'.repeat(25_000)
  ]
  const bounded = [
    'a'.repeat(300) + '@',
    'a.'.repeat(150) + '@',
    '@'.repeat(320),
    'a@' + '-'.repeat(300) + '.test',
    'a@' + 'a-'.repeat(150) + '.test',
    'a@' + 'a.'.repeat(150) + 'test',
    'a'.repeat(64) + '.' + 'b'.repeat(100) + '@' + 'c'.repeat(63) + '.test',
    '!#$%&\'*+/=?^_`{|}~-'.repeat(16) + '@x.test'
  ]
  const { app: strict } = await build(t)
  const { app: roomy } = await build(t, { bodyLimit: 1024 * 1024 })

  const timed = async (label: string, app: FastifyInstance, url: string, payload: Record<string, unknown>): Promise<void> => {
    const started = performance.now()
    const response = await post(app, url, {}, payload)
    const elapsed = performance.now() - started
    t.ok(response.statusCode >= 400 && response.statusCode < 500, `${label}: ${response.statusCode}`)
    t.ok(elapsed < 200, `${label}: ${elapsed.toFixed(1)} ms`)
  }
  for (const [i, input] of [...huge, ...bounded].entries()) {
    for (const app of [strict, roomy]) {
      const limit = app === strict ? '16 KiB' : '1 MiB'
      await timed(`email #${i} login (${limit})`, app, '/api/auth/login', { email: input, password: 'whatever it is' })
      await timed(`email #${i} register (${limit})`, app, '/api/auth/register', { ...alice, email: input })
      await timed(`name #${i} (${limit})`, app, '/api/auth/register', { ...alice, email: `n${i}@example.test`, name: input })
      await timed(`username #${i} (${limit})`, app, '/api/auth/register', { ...alice, email: `u${i}@example.test`, username: input })
    }
  }
})

t.test('INP-05: errors have Fastify\'s shape, no stack, and never echo the password', async t => {
  const { app } = await build(t)
  const canary = 'CANARY-inp05-d41d8cd9'
  const cases: Array<[string, string, string | Record<string, unknown>, Record<string, string>]> = [
    ['malformed JSON', '/api/auth/login', `{"email":"${alice.email}","password":"${canary}"`, { 'content-type': 'application/json' }],
    ['trailing garbage', '/api/auth/login', `{"email":"${alice.email}","password":"${canary}"}x`, { 'content-type': 'application/json' }],
    ['empty JSON body', '/api/auth/login', '', { 'content-type': 'application/json' }],
    ['unknown field', '/api/auth/login', { email: alice.email, password: canary, [canary]: canary }, {}],
    ['wrong type', '/api/auth/login', { email: 5, password: canary }, {}],
    ['password too long for the schema', '/api/auth/login', { email: alice.email, password: canary.repeat(100) }, {}],
    ['register, unknown field', '/api/auth/register', { ...alice, password: canary, confirm_password: canary, role: canary }, {}],
    ['register, policy', '/api/auth/register', { ...alice, password: `${canary}${'x'.repeat(120)}`, confirm_password: `${canary}${'x'.repeat(120)}` }, {}],
    ['register, mismatch', '/api/auth/register', { ...alice, password: canary, confirm_password: `${canary}!` }, {}],
    ['refresh with a body', '/api/auth/refresh', { password: canary }, {}]
  ]
  for (const [label, url, payload, headers] of cases) {
    const response = await post(app, url, headers, payload)
    t.equal(response.statusCode, 400, label)
    const body = response.json<Record<string, unknown>>()
    t.same(Object.keys(body).sort(), ERROR_KEYS, `${label}: exactly statusCode, code, error, message`)
    t.match(body.code, /^FST_LCAUTH_/)
    t.notOk(response.body.includes(canary), `${label}: the password is not echoed`)
    t.notMatch(response.body, /\n\s+at |node_modules|\/work\/|\.ts:\d/, `${label}: no stack or path`)
  }
})

t.test('INP-05: an internal error is a generic 500 with no detail', async t => {
  const inner = memoryStorage()
  const detail = 'connect ECONNREFUSED postgres://admin:hunter2@db.internal:5432 (/srv/app/lib/db.js:42)'
  const storage: Storage = {
    ...inner,
    kind: inner.kind,
    users: {
      ...inner.users,
      findByEmail: async () => { throw new Error(detail) },
      create: async () => { throw Object.assign(new Error(detail), { code: 'ECONNREFUSED', statusCode: 503 }) }
    }
  }
  const { app } = await build(t, { storage })
  for (const [label, response] of [['login', await login(app)], ['register', await register(app)]] as const) {
    t.equal(response.statusCode, 500, label)
    const body = response.json<Record<string, unknown>>()
    t.same(Object.keys(body).sort(), ERROR_KEYS)
    t.equal(body.code, 'FST_LCAUTH_INTERNAL')
    t.equal(body.message, 'Something went wrong.')
    for (const secret of ['hunter2', 'ECONNREFUSED', 'postgres', 'db.internal', '/srv/app', 'stack']) {
      t.notOk(response.body.includes(secret), `${label}: the body does not contain ${secret}`)
    }
    t.equal(response.headers['set-cookie'], undefined)
  }
})

t.test('refresh and logout take no body or an empty object, nothing else', async t => {
  const { app } = await build(t)
  let { refresh } = await registerAndLogin(app)
  const withCookie = (type?: string): Record<string, string> => ({ cookie: `refreshToken=${refresh}`, ...(type === undefined ? {} : { 'content-type': type }) })

  for (const [label, type, payload] of [
    ['no body', undefined, undefined],
    ['an empty JSON body', 'application/json', ''],
    ['{}', 'application/json', '{}']
  ] as const) {
    const response = await post(app, '/api/auth/refresh', withCookie(type), payload)
    t.equal(response.statusCode, 200, `refresh with ${label}`)
    refresh = refreshCookieOf(response) ?? ''
  }
  for (const payload of ['{"a":1}', '[]', 'null', '"x"', '1', '{"refreshToken":"x"}']) {
    const response = await post(app, '/api/auth/refresh', withCookie('application/json'), payload)
    t.equal(response.statusCode, 400, `refresh with ${payload}`)
    t.match(errorOf(response).code, /^FST_LCAUTH_(VALIDATION|INVALID_JSON)$/)
    t.equal(response.headers['set-cookie'], undefined, 'the cookie is left alone')
    const logout = await post(app, '/api/auth/logout', withCookie('application/json'), payload)
    t.equal(logout.statusCode, 400, `logout with ${payload}`)
    t.equal(logout.headers['set-cookie'], undefined)
  }
  t.equal((await post(app, '/api/auth/logout', withCookie('application/json'), '{}')).statusCode, 200, 'logout with {}')
  t.equal((await post(app, '/api/auth/logout', withCookie())).statusCode, 200, 'logout with no body')
})
