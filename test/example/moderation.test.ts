import t from 'tap'
import { dataDir, startExample } from '../helpers/example.ts'

// The moderation variables, set on the example server the way an operator sets them, over HTTP.

const alice = { name: 'Alice Liddell', email: 'alice@example.com', password: 'correct horse battery', confirm_password: 'correct horse battery' }

function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}

async function tokenOf (url: string): Promise<string> {
  await post(`${url}/api/auth/register`, alice)
  const login = await post(`${url}/api/auth/login`, { email: alice.email, password: alice.password })
  return ((await login.json()) as { token: string }).token
}

t.test('LOGIN_MAX, BAN_INTERVAL and BAN_DURATION: 429, then a ban with Retry-After; TRUST_PROXY decides whose address counts', async t => {
  const server = await startExample({ DATA_DIR: await dataDir(), LOGIN_MAX: '2', LOGIN_WINDOW: '1', BAN_INTERVAL: '2', BAN_DURATION: '1000 * 60 * 10', TRUST_PROXY: '127.0.0.1' })
  t.teardown(server.stop)
  const attempt = (client: string): Promise<Response> => post(`${server.url}/api/auth/login`, { email: 'nobody@example.com', password: 'not the password' }, { 'x-forwarded-for': client })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await attempt('203.0.113.1')).status)
  t.same(statuses, [401, 401, 429, 429, 403], 'two allowed, two refusals scored, then the address is banned')
  const banned = await attempt('203.0.113.1')
  t.equal(banned.status, 403)
  t.match(await banned.json(), { code: 'FST_LCAUTH_BANNED' })
  const retryAfter = Number(banned.headers.get('retry-after'))
  t.ok(retryAfter > 590 && retryAfter <= 600, `BAN_DURATION read as LibreChat writes it (${retryAfter} s)`)
  t.equal((await attempt('203.0.113.2')).status, 401, 'the proxy (127.0.0.1) is trusted: another client behind it is not banned')
})

t.test('LIMIT_MESSAGE_IP and MESSAGE_IP_MAX on the demo message route; LIMIT_CONCURRENT_MESSAGES and CONCURRENT_MESSAGE_MAX', async t => {
  // tokenOf signs in right after registering: no mail, so no verification step.
  const server = await startExample({ DATA_DIR: await dataDir(), EMAIL_DEV_INBOX: 'false', LIMIT_MESSAGE_IP: 'true', MESSAGE_IP_MAX: '3', MESSAGE_IP_WINDOW: '1', LIMIT_CONCURRENT_MESSAGES: 'true', CONCURRENT_MESSAGE_MAX: '1' })
  t.teardown(server.stop)
  const token = await tokenOf(server.url)
  const send = (wait = 0): Promise<Response> => post(`${server.url}/api/demo/messages?wait=${wait}`, {}, { authorization: `Bearer ${token}` })
  const slow = send(800)
  await new Promise(resolve => setTimeout(resolve, 200))
  const second = await send()
  t.equal(second.status, 429, 'a second message while one is in flight')
  t.match(await second.json(), { code: 'FST_LCAUTH_RATE_LIMITED' })
  t.equal((await slow).status, 200)
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await send()).status)
  t.same(statuses, [200, 429, 429], 'the in-flight slot came back; then the per-IP message limit (3, the refused one counted too)')
})

t.test('REFRESH_IP_MAX and REFRESH_IP_WINDOW: the per-address refresh ceiling', async t => {
  const server = await startExample({ DATA_DIR: await dataDir(), REFRESH_IP_MAX: '2', REFRESH_IP_WINDOW: '1' })
  t.teardown(server.stop)
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await post(`${server.url}/api/auth/refresh`, {})).status)
  t.same(statuses, [401, 401, 429], 'two refreshes from the address, then 429 (REFRESH_MAX alone would allow 30)')
  // The log line may arrive a moment after the response.
  const limited = /"event":"moderation.limited"[^\n]*"limiter":"refreshIp"/
  for (let i = 0; i < 50 && !limited.test(server.output()); i++) await new Promise(resolve => setTimeout(resolve, 20))
  t.match(server.output(), limited, 'the ceiling that refused it is named in the log')
})

t.test('MODERATION_DRY_RUN: nothing is refused, the audit log says what would have been', async t => {
  const server = await startExample({ DATA_DIR: await dataDir(), MODERATION_DRY_RUN: 'true', LOGIN_MAX: '1', BAN_INTERVAL: '1' })
  t.teardown(server.stop)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await post(`${server.url}/api/auth/login`, { email: 'nobody@example.com', password: 'not the password' })).status)
  t.same(statuses, [401, 401, 401, 401])
  t.match(server.output(), /"event":"moderation.limited"[^\n]*"dryRun":true/)
  t.match(server.output(), /"event":"ban.created"[^\n]*"dryRun":true/)
})
