import { readFile } from 'node:fs/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import authPlugin, { type AuthOptions } from '../../index.ts'
import { EVENT_LOG_LEVELS } from '../../plugins/event-log.ts'
import { alice, baseOptions, login, refreshCookieOf, register } from '../helpers/app.ts'

// Security events reach the host's logger with no wiring: warn for refusals and failures, info for
// normal outcomes, and never a password, a token or an email address.

interface LogLine { level: number, msg: string, event?: string, [field: string]: unknown }

async function withLogs (t: { teardown(fn: () => unknown): void }, options: Partial<AuthOptions> = {}): Promise<{ app: FastifyInstance, lines: string[], events: () => LogLine[] }> {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(authPlugin, { ...baseOptions, ...options })
  app.get('/api/protected', { preHandler: app.lcauth.authenticate }, async () => ({ ok: true }))
  await app.ready()
  const events = (): LogLine[] => lines.map(line => JSON.parse(line) as LogLine).filter(line => line.msg === 'librechat-auth event')
  return { app, lines, events }
}

t.test('a failed login is a warn line in the host\'s log, a successful one an info line, with no wiring', async t => {
  const { app, events } = await withLogs(t)
  t.equal((await register(app)).statusCode, 200)
  t.equal((await login(app, alice.email, 'not the password at all')).statusCode, 401)
  t.equal((await login(app)).statusCode, 200)

  const failure = events().filter(line => line.event === 'login.failure')
  t.equal(failure.length, 1, 'logged once')
  t.match(failure[0], { level: 40, event: 'login.failure', reason: 'bad_password', userId: String, subject: String, ip: '127.0.0.1' })
  const success = events().filter(line => line.event === 'login.success')
  t.equal(success.length, 1)
  t.match(success[0], { level: 30, event: 'login.success', userId: String, sessionId: String, requestId: String })
  t.match(events().find(line => line.event === 'register.success'), { level: 30 })
})

t.test('logEvents: false logs no event', async t => {
  const { app, lines, events } = await withLogs(t, { logEvents: false })
  await register(app)
  await login(app, alice.email, 'not the password at all')
  await login(app)
  t.same(events(), [])
  t.notOk(lines.some(line => line.includes('login.')), 'not under any other message either')
})

t.test('no event line holds the password, a token or the email address', async t => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  // The unsafe reset mode, so a reset request is made without a mailer (it answers with the link).
  const { app, lines, events } = await withLogs(t, { now: () => new Date(now), allowUnsafePasswordReset: true })
  const password = 'correct horse battery staple'
  const newPassword = 'a brand new passphrase here'
  const email = 'Carol.Secret@Example.test'
  const carol = { name: 'Carol', email, password, confirm_password: password }
  await register(app, carol)
  await register(app, carol)
  await login(app, email, 'not the password at all')
  const first = await login(app, email, password)
  const token = first.json<{ token: string }>().token
  const refresh = refreshCookieOf(first) as string
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  const newRefresh = refreshCookieOf(refreshed) as string
  const newToken = refreshed.json<{ token: string }>().token
  // The old token again, past the two-tab grace: reuse, the session ends.
  now += 60_000
  await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })
  const second = await login(app, email, password)
  const secondToken = second.json<{ token: string }>().token
  await app.inject({ method: 'POST', url: '/api/auth/password', headers: { authorization: `Bearer ${secondToken}` }, payload: { currentPassword: password, password: newPassword, confirm_password: newPassword } })
  const reset = await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email } })
  const resetToken = new URL(reset.json<{ link: string }>().link).searchParams.get('token') as string
  await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: `refreshToken=${refreshCookieOf(second) as string}` } })

  const names = new Set(events().map(line => line.event))
  for (const name of ['register.success', 'register.duplicate', 'login.failure', 'login.success', 'refresh.rotated', 'refresh.reuse_detected', 'session.revoked', 'access.denied', 'password.changed', 'password.reset_requested', 'logout']) {
    t.ok(names.has(name), `${name} was logged`)
  }
  t.match(events().find(line => line.event === 'refresh.reuse_detected'), { level: 40 })
  for (const [what, secret] of [['the password', password], ['the new password', newPassword], ['the access token', token], ['the new access token', newToken], ['the second access token', secondToken], ['the refresh token', refresh], ['the reset token', resetToken], ['the new refresh token', newRefresh], ['the email address', email.toLowerCase()], ['the email as typed', email]] as const) {
    t.notOk(lines.some(line => line.toLowerCase().includes(secret.toLowerCase())), `no log line has ${what}`)
  }
})

t.test('a field that might hold a secret is left out, whatever the event', async t => {
  const { app, lines, events } = await withLogs(t)
  app.lcauth.events.emit('moderation.store_unavailable', { ip: null, userAgent: null, requestId: null, at: new Date(), store: 'redis', error: 'Error: connect redis://:hunter2@cache:6379' })
  t.match(events().at(-1), { level: 40, event: 'moderation.store_unavailable', store: 'redis' })
  t.notOk('error' in (events().at(-1) as LogLine), 'no error field')
  t.notOk(lines.some(line => line.includes('hunter2')))
})

t.test('docs/configuration.md lists every event with the level it is logged at', async t => {
  const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  for (const [event, level] of Object.entries(EVENT_LOG_LEVELS)) {
    t.match(doc, new RegExp(`\\| \`${event.replace('.', '\\.')}\` \\| ${level} \\|`), `${event}: ${level}`)
  }
})
