import t from 'tap'
import { dataDir, failingExample, startExample } from '../helpers/example.ts'

const alice = { name: 'Alice Liddell', email: 'alice@example.com', password: 'correct horse battery', confirm_password: 'correct horse battery' }

async function post (url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : JSON.stringify(body)
  })
}

const cookieOf = (response: Response): string => (response.headers.get('set-cookie') ?? '').split(';')[0] as string

t.test('the README walkthrough works against the example server', async t => {
  const server = await startExample({ NODE_ENV: 'development', DATA_DIR: await dataDir() })
  t.teardown(server.stop)
  t.equal((await post(`${server.url}/api/auth/register`, alice)).status, 200)
  // No mail settings: the verification mail waits in the development inbox.
  let mails: Array<{ links: string[] }> = []
  for (let i = 0; i < 100 && mails.length === 0; i++) {
    mails = await (await fetch(`${server.url}/dev/mail.json`)).json() as typeof mails
    if (mails.length === 0) await new Promise(resolve => setTimeout(resolve, 50))
  }
  const verify = new URL(mails[0]?.links[0] as string)
  t.equal((await post(`${server.url}/api/user/verify`, { email: verify.searchParams.get('email'), token: verify.searchParams.get('token') })).status, 200)
  const login = await post(`${server.url}/api/auth/login`, { email: alice.email, password: alice.password })
  t.equal(login.status, 200)
  const { token } = await login.json() as { token: string }
  const cookie = cookieOf(login)
  t.match(cookie, /^refreshToken=/)

  const protectedRoute = await fetch(`${server.url}/api/demo/protected`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(protectedRoute.status, 200)
  t.match(await protectedRoute.json(), { user: { email: alice.email, role: 'ADMIN' } })
  t.equal((await fetch(`${server.url}/api/demo/admin`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
  t.equal((await fetch(`${server.url}/api/demo/protected`)).status, 401)

  const refreshed = await post(`${server.url}/api/auth/refresh`, undefined, { cookie })
  t.equal(refreshed.status, 200)
  const newCookie = cookieOf(refreshed)
  t.not(newCookie, cookie)
  const { token: newToken } = await refreshed.json() as { token: string }

  const sessions = await fetch(`${server.url}/api/auth/sessions`, { headers: { authorization: `Bearer ${newToken}` } })
  t.equal(sessions.status, 200)
  t.match(await sessions.json(), [{ current: true, ip: '127.0.0.1' }])

  const logout = await post(`${server.url}/api/auth/logout`, undefined, { cookie: newCookie })
  t.equal(logout.status, 200)
  t.match(logout.headers.get('set-cookie'), /Max-Age=0/)
  t.equal((await fetch(`${server.url}/api/demo/protected`, { headers: { authorization: `Bearer ${newToken}` } })).status, 401, 'the access token died with its session')
  t.equal((await post(`${server.url}/api/auth/refresh`, undefined, { cookie: newCookie })).status, 401)

  t.match(server.output(), /JWT_SECRET or JWT_REFRESH_SECRET is not set: using development secrets just created in/)
  t.match(server.output(), /ALLOW_REGISTRATION is not set: this example opens registration for the demo/, 'the demo default is said out loud')
  t.equal(server.output().match(/"event":"login.success"/g)?.length, 1, 'the login is logged, once, by the plugin itself')
  t.match(server.output(), /"level":30,[^\n]*"event":"access.denied"/, 'the request without a token, at info')
  t.notMatch(server.output(), new RegExp(alice.password))
  t.notMatch(server.output(), new RegExp(token))
})

t.test('variables configure the running server', async t => {
  const server = await startExample({
    ALLOW_REGISTRATION: 'false',
    MIN_PASSWORD_LENGTH: '12',
    SESSION_EXPIRY: '1000 * 60',
    DOMAIN_SERVER: 'https://api.example.com',
    JWT_SECRET: 'example-test-access-secret-0123456789abcdef',
    JWT_REFRESH_SECRET: 'example-test-refresh-secret-0123456789abcdef',
    APP_TITLE: 'Test Chat',
    DATA_DIR: await dataDir()
  })
  t.teardown(server.stop)
  const refused = await post(`${server.url}/api/auth/register`, alice)
  t.equal(refused.status, 403)
  t.match(await refused.json(), { code: 'FST_LCAUTH_REGISTRATION_DISABLED' })
  const config = await (await fetch(`${server.url}/api/auth/config`)).json()
  t.match(config, { registrationEnabled: false, minPasswordLength: 12, serverDomain: 'https://api.example.com' })
  t.notMatch(server.output(), /development secrets/)
})

t.test('a bad variable stops the server with a message naming it', async t => {
  const { code, output } = await failingExample({ ALLOW_REGISTRATION: 'maybe', DATA_DIR: await dataDir() })
  t.equal(code, 1)
  t.match(output, /ALLOW_REGISTRATION must be true or false/)
  t.notMatch(output, /\n\s+at /, 'no stack trace')

  // TRUST_PROXY reaches Fastify too: it is checked by the plugin's rule first, so the error names it.
  const proxy = await failingExample({ TRUST_PROXY: '10.0.0.0/8, not-a-proxy', DATA_DIR: await dataDir() })
  t.equal(proxy.code, 1)
  t.match(proxy.output, /TRUST_PROXY has an entry that is not an address or CIDR range: "not-a-proxy"/)
  const everyone = await failingExample({ TRUST_PROXY: '0.0.0.0/1,128.0.0.0/1', NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), JWT_REFRESH_SECRET: 'y'.repeat(40), DATA_DIR: await dataDir() })
  t.equal(everyone.code, 1)
  t.match(everyone.output, /trustProxy covers every address/, 'a list trusting every address is refused in production')
})

t.test('production without secrets refuses to start', async t => {
  const { code, output } = await failingExample({ NODE_ENV: 'production', DATA_DIR: await dataDir() })
  t.equal(code, 1)
  t.match(output, /jwtSecret is required/)
})

t.test('SQLite by default: an acknowledged registration survives kill -9, and so do sessions (kept secrets)', async t => {
  const data = await dataDir()
  // No mail at all, so the account signs in unverified: this is about storage, not mail.
  const first = await startExample({ DATA_DIR: data, EMAIL_DEV_INBOX: 'false' })
  t.equal((await post(`${first.url}/api/auth/register`, alice)).status, 200)
  const login = await post(`${first.url}/api/auth/login`, { email: alice.email, password: alice.password })
  const cookie = cookieOf(login)
  process.kill(first.pid, 'SIGKILL')
  await first.stop()

  const second = await startExample({ DATA_DIR: data, EMAIL_DEV_INBOX: 'false' })
  t.teardown(second.stop)
  t.match(second.output(), /development secrets kept in/)
  t.equal((await post(`${second.url}/api/auth/login`, { email: alice.email, password: alice.password })).status, 200, 'the user is still there')
  t.equal((await post(`${second.url}/api/auth/refresh`, undefined, { cookie })).status, 200, 'the session too: same secrets, same database')
  const { statSync } = await import('node:fs')
  t.equal(statSync(`${data}/dev-secrets.json`).mode & 0o777, 0o600, 'secrets readable by this user only')
  t.ok(statSync(`${data}/librechat-auth.db`).isFile())
})

t.test('EMAIL_* variables: verification and reset mails reach a real SMTP server and their links work', async t => {
  const { startSmtp } = await import('../helpers/smtp.ts')
  const smtp = await startSmtp()
  t.teardown(() => smtp.close())
  const server = await startExample({ DATA_DIR: await dataDir(), EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), EMAIL_FROM: 'noreply@example.com', APP_TITLE: 'Example Chat' })
  t.teardown(server.stop)
  const waitForMail = async (count: number): Promise<string> => {
    for (let i = 0; i < 100 && smtp.messages.length < count; i++) await new Promise(resolve => setTimeout(resolve, 50))
    return smtp.messages[count - 1]?.parsed.text ?? ''
  }
  t.equal((await post(`${server.url}/api/auth/register`, alice)).status, 200)
  const verifyMail = await waitForMail(1)
  t.match(smtp.messages[0]?.parsed.subject, /Example Chat/)
  t.equal((await post(`${server.url}/api/auth/login`, { email: alice.email, password: alice.password })).status, 422, 'not verified yet')
  const verify = new URL(/http\S+\/verify\?\S+/.exec(verifyMail)?.[0] as string)
  t.equal(verify.origin, server.url, 'links use DOMAIN_CLIENT (here the example default)')
  t.equal((await post(`${server.url}/api/user/verify`, { email: verify.searchParams.get('email'), token: verify.searchParams.get('token') })).status, 200)
  t.equal((await post(`${server.url}/api/auth/login`, { email: alice.email, password: alice.password })).status, 200)

  t.equal((await post(`${server.url}/api/auth/requestPasswordReset`, { email: alice.email })).status, 200)
  const reset = new URL(/http\S+\/reset-password\?\S+/.exec(await waitForMail(2))?.[0] as string)
  const done = await post(`${server.url}/api/auth/resetPassword`, { token: reset.searchParams.get('token'), userId: reset.searchParams.get('userId'), password: 'a brand new passphrase', confirm_password: 'a brand new passphrase' })
  t.equal(done.status, 200)
  t.equal((await post(`${server.url}/api/auth/login`, { email: alice.email, password: 'a brand new passphrase' })).status, 200)
  t.match(await (await fetch(`${server.url}/api/auth/config`)).json(), { emailEnabled: true, passwordResetEnabled: true })
})

t.test('ALLOW_UNSAFE_PASSWORD_RESET on the example: a warning, and refused in production', async t => {
  // The unsafe mode is for a deployment without mail; any mailer, the development inbox too, turns it off.
  const server = await startExample({ DATA_DIR: await dataDir(), ALLOW_UNSAFE_PASSWORD_RESET: 'true', EMAIL_DEV_INBOX: 'false' })
  t.teardown(server.stop)
  t.match(server.output(), /allowUnsafePasswordReset lets anyone who knows an email address reset its password/)
  t.equal((await post(`${server.url}/api/auth/register`, alice)).status, 200)
  const answer = await (await post(`${server.url}/api/auth/requestPasswordReset`, { email: alice.email })).json() as { link?: string }
  t.match(answer.link, /\/reset-password\?token=/)
  const refused = await failingExample({ DATA_DIR: await dataDir(), NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), JWT_REFRESH_SECRET: 'y'.repeat(40), ALLOW_UNSAFE_PASSWORD_RESET: 'true' })
  t.equal(refused.code, 1)
  t.match(refused.output, /allowUnsafePasswordReset .*refused when NODE_ENV=production/)
})

t.test('HOST=0.0.0.0: the default origin is localhost, which browsers actually send', async t => {
  const server = await startExample({ DATA_DIR: await dataDir(), HOST: '0.0.0.0' })
  t.teardown(server.stop)
  const config = await (await fetch(`${server.url}/api/auth/config`)).json() as { serverDomain: string }
  t.match(config.serverDomain, /^http:\/\/localhost:\d+$/)
  const sameOrigin = await post(`${server.url}/api/auth/register`, alice, { origin: config.serverDomain })
  t.equal(sameOrigin.status, 200, 'a browser on http://localhost:PORT passes the cross-site check')
})
