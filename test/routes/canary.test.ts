import { createHash } from 'node:crypto'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import t from 'tap'
import authPlugin, { memoryStorage, type AuthEventName, type Storage } from '../../index.ts'
import { refreshCookieOf } from '../helpers/app.ts'

const PASSWORD = 'CANARY-pw-5b1e0c7a sunrise'
const OTHER_PASSWORD = 'CANARY-pw2-91d3f0aa moonset'
const JWT_SECRET = 'CANARY-jwt-secret-3f9a0b1c2d3e4f5a6b7c8d9e'
const REFRESH_SECRET = 'CANARY-refresh-secret-7e6d5c4b3a291807f6e5d4c3'
const EMAIL = 'songbird@example.test'
const BOOM = 'boom@example.test'

t.test('CFG-03: no password, token or secret reaches a log line, a response body or an event', async t => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())

  // A storage that fails for one address, so an internal error is logged too.
  const inner = memoryStorage()
  const storage: Storage = {
    ...inner,
    kind: inner.kind,
    users: {
      ...inner.users,
      findByEmail: async email => {
        if (email === BOOM) throw new Error('the database is down')
        return inner.users.findByEmail(email)
      }
    }
  }
  await app.register(authPlugin, {
    jwtSecret: JWT_SECRET,
    jwtRefreshSecret: REFRESH_SECRET,
    domainServer: 'http://127.0.0.1:3080',
    bcryptRounds: 4,
    production: false,
    storage
  })
  const events: Array<{ name: AuthEventName, payload: unknown }> = []
  app.lcauth.events.onAny((name, payload) => events.push({ name, payload }))
  app.get('/api/protected', { preHandler: app.lcauth.authenticate }, async request => ({ user: request.authUser }))
  await app.ready()

  /** Bodies to search, with the tokens a login or refresh legitimately returns taken out. */
  const bodies: Array<{ label: string, text: string }> = []
  const headers: Array<{ label: string, text: string }> = []
  const accessTokens: string[] = []
  const refreshTokens: string[] = []
  const record = (label: string, response: LightMyRequestResponse): LightMyRequestResponse => {
    let text = response.body
    if (response.statusCode === 200 && (label.startsWith('login') || label.startsWith('refresh'))) {
      const { token, ...rest } = response.json<{ token: string }>()
      accessTokens.push(token)
      text = JSON.stringify(rest)
    }
    const refresh = refreshCookieOf(response)
    if (refresh !== null) refreshTokens.push(refresh)
    bodies.push({ label: `${label} (${response.statusCode})`, text })
    const { 'set-cookie': _cookie, ...rest } = response.headers
    headers.push({ label: `${label} (${response.statusCode})`, text: JSON.stringify(rest) })
    return response
  }
  const json = (label: string, url: string, payload: unknown, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...extra }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
      .then(r => record(label, r))
  const signup = { name: 'Yellow Bird', email: EMAIL, password: PASSWORD, confirm_password: PASSWORD }

  t.equal((await json('register', '/api/auth/register', signup)).statusCode, 200)
  t.equal((await json('register duplicate', '/api/auth/register', { ...signup, password: OTHER_PASSWORD, confirm_password: OTHER_PASSWORD })).statusCode, 200)
  t.equal((await json('register mismatch', '/api/auth/register', { ...signup, email: 'x@example.test', confirm_password: OTHER_PASSWORD })).statusCode, 400)
  t.equal((await json('register extra field', '/api/auth/register', { ...signup, email: 'y@example.test', role: PASSWORD })).statusCode, 400)
  t.equal((await json('login wrong password', '/api/auth/login', { email: EMAIL, password: OTHER_PASSWORD })).statusCode, 401)
  t.equal((await json('login unknown email', '/api/auth/login', { email: 'nobody@example.test', password: PASSWORD })).statusCode, 401)
  t.equal((await json('login malformed JSON', '/api/auth/login', `{"email":"${EMAIL}","password":"${PASSWORD}"`)).statusCode, 400)
  t.equal((await json('login bad type', '/api/auth/login', { email: [EMAIL], password: PASSWORD })).statusCode, 400)
  t.equal((await json('login too large', '/api/auth/login', { email: EMAIL, password: PASSWORD.repeat(1000) })).statusCode, 413)
  t.equal((await json('login internal error', '/api/auth/login', { email: BOOM, password: PASSWORD })).statusCode, 500)
  t.equal((await json('login cross-site', '/api/auth/login', { email: EMAIL, password: PASSWORD }, { origin: 'https://evil.test' })).statusCode, 403)

  const loggedIn = await json('login', '/api/auth/login', { email: EMAIL, password: PASSWORD }, { 'user-agent': 'canary-agent' })
  t.equal(loggedIn.statusCode, 200)
  const firstAccess = accessTokens.at(-1) ?? ''
  const firstRefresh = refreshTokens.at(-1) ?? ''
  t.ok(firstAccess !== '' && firstRefresh !== '', 'got both tokens')

  const authorization = { authorization: `Bearer ${firstAccess}` }
  t.equal(record('protected', await app.inject({ url: '/api/protected', headers: authorization })).statusCode, 200)
  t.equal(record('user', await app.inject({ url: '/api/user', headers: authorization })).statusCode, 200)
  t.equal(record('protected tampered', await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${firstAccess}x` } })).statusCode, 401)

  const cookie = (token: string): Record<string, string> => ({ cookie: `refreshToken=${token}` })
  t.equal(record('refresh', await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: cookie(firstRefresh) })).statusCode, 200)
  const secondAccess = accessTokens.at(-1) ?? ''
  const secondRefresh = refreshTokens.at(-1) ?? ''
  t.not(secondRefresh, firstRefresh)
  t.equal(record('refresh old token', await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: cookie(firstRefresh) })).statusCode, 401)
  t.equal(record('refresh garbage', await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: cookie(`${firstRefresh}x`) })).statusCode, 401)
  t.equal(record('refresh cross-site', await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { ...cookie(secondRefresh), origin: 'https://evil.test' } })).statusCode, 403)
  t.equal(record('logout', await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { ...cookie(secondRefresh), authorization: `Bearer ${secondAccess}` } })).statusCode, 200)
  t.equal(record('refresh after logout', await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: cookie(secondRefresh) })).statusCode, 401)
  t.equal(record('logout bearer only', await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${firstAccess}` } })).statusCode, 200)
  t.equal(record('logout again', await app.inject({ method: 'POST', url: '/api/auth/logout', headers: cookie(secondRefresh) })).statusCode, 200)

  await app.close()

  const canaries: Array<[string, string]> = [
    ['the password', PASSWORD],
    ['the other password', OTHER_PASSWORD],
    ['the password pre-hash', createHash('sha256').update(PASSWORD.normalize('NFKC')).digest('base64')],
    ['the password SHA-256', createHash('sha256').update(PASSWORD).digest('hex')],
    ['JWT_SECRET', JWT_SECRET],
    ['JWT_REFRESH_SECRET', REFRESH_SECRET],
    ['the common canary prefix', 'CANARY-']
  ]
  for (const [i, token] of accessTokens.entries()) {
    canaries.push([`access token ${i}`, token])
    canaries.push([`access token ${i} signature`, token.split('.')[2] ?? token])
  }
  for (const [i, token] of refreshTokens.entries()) {
    canaries.push([`refresh token ${i}`, token])
    canaries.push([`refresh token ${i} secret part`, token.split('.')[1] ?? token])
  }
  t.equal(accessTokens.length, 2)
  t.equal(refreshTokens.length, 2)

  t.ok(lines.length > 20, `captured ${lines.length} log lines`)
  t.ok(lines.some(line => line.includes('incoming request')), 'request logs were captured')
  t.ok(lines.some(line => /"level":(40|50|60)/.test(line)), 'the internal error was logged')
  t.ok(events.length > 10, `captured ${events.length} events`)

  const haystacks: Array<[string, string]> = [
    ...lines.map((line, i): [string, string] => [`log line ${i}`, line]),
    ...bodies.map(({ label, text }): [string, string] => [`response body of ${label}`, text]),
    ...headers.map(({ label, text }): [string, string] => [`response headers of ${label}`, text]),
    ...events.map(({ name, payload }, i): [string, string] => [`event ${i} ${name}`, JSON.stringify(payload)])
  ]
  let leaks = 0
  for (const [where, text] of haystacks) {
    for (const [what, canary] of canaries) {
      if (text.includes(canary)) {
        leaks++
        t.fail(`${what} appears in ${where}: ${text.slice(0, 300)}`)
      }
    }
  }
  t.equal(leaks, 0, `no canary in ${haystacks.length} log lines, bodies, headers and events`)
})
