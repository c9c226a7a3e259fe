import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import Fastify from 'fastify'
import t from 'tap'
import authPlugin, { memoryStorage, type Storage } from '../../index.ts'
import { alice, baseOptions, build, registerAndLogin } from '../helpers/app.ts'

async function withLogs (t: { teardown(fn: () => unknown): void }, storage: Storage, extra: Record<string, unknown> = {}) {
  const logs: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => logs.push(line) } } })
  t.teardown(() => app.close())
  await app.register(authPlugin, { ...baseOptions, storage, ...extra })
  await app.ready()
  return { app, logs }
}

t.test('a failing event listener is logged and the request still succeeds', async t => {
  const { app, logs } = await withLogs(t, memoryStorage())
  app.lcauth.events.on('register.success', () => { throw new Error('listener bug') })
  const response = await app.inject({ method: 'POST', url: '/api/auth/register', payload: alice })
  t.equal(response.statusCode, 200)
  t.ok(logs.some(l => l.includes('librechat-auth event listener failed') && l.includes('register.success')))
})

t.test('a storage that cannot be polled for revocations is a logged warning, not a crash', async t => {
  const storage = memoryStorage()
  let fail = false
  const flaky: Storage = {
    ...storage,
    sessions: { ...storage.sessions, listRevokedSince: async (since) => { if (fail) throw new Error('store down'); return storage.sessions.listRevokedSince(since) } }
  }
  const { logs } = await withLogs(t, flaky, { revocationPollInterval: 10 })
  fail = true
  await new Promise(resolve => setTimeout(resolve, 60))
  t.ok(logs.some(l => l.includes('lcauth.revocation_poll_failed')))
})

t.test('any Mailer can be passed in; the plugin leaves it open', async t => {
  const { memoryMailer } = await import('../../index.ts')
  const mailer = memoryMailer()
  let closed = false
  const { app } = await withLogs(t, memoryStorage(), { mailer: { ...mailer, send: mailer.send, close: async () => { closed = true } } })
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', payload: alice })).statusCode, 200)
  await app.lcauth.mail?.idle()
  t.match(mailer.outbox, [{ to: { address: alice.email }, subject: /Verify your email/ }])
  await app.close()
  t.equal(closed, false)
})

t.test('an unreachable mail server is a startup warning that does not delay ready', async t => {
  const started = Date.now()
  const { logs } = await withLogs(t, memoryStorage(), { mailer: { host: '127.0.0.1', port: 1, from: 'noreply@example.test', timeoutMs: 500 } })
  t.ok(Date.now() - started < 2000, 'ready did not wait for the mail server')
  for (let i = 0; i < 60 && !logs.some(l => l.includes('lcauth.mailer_unreachable')); i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.ok(logs.some(l => l.includes('lcauth.mailer_unreachable')), 'the warning came')
  t.notOk(logs.some(l => l.includes('"level":50')), 'not an error, not a crash')
})

t.test('memory storage is named in a startup warning, also when passed in', async t => {
  const { logs } = await withLogs(t, memoryStorage())
  t.ok(logs.some(l => l.includes('storage is in memory')))
})

t.test('MOD-05: bans kept in memory are a production warning (they reset on restart); a shared store is not', async t => {
  const production = { production: true, bcryptRounds: 10, jwtSecret: 'p'.repeat(40), jwtRefreshSecret: 'q'.repeat(40) }
  const inMemory = await withLogs(t, memoryStorage(), production)
  t.ok(inMemory.logs.some(l => l.includes('bans and limits are kept in memory')))
  const development = await withLogs(t, memoryStorage())
  t.notOk(development.logs.some(l => l.includes('bans and limits are kept in memory')), 'not outside production')
  const shared = await withLogs(t, memoryStorage(), { ...production, banStore: { ...memoryBanStore(), kind: 'redis' } })
  t.notOk(shared.logs.some(l => l.includes('bans and limits are kept in memory')))
})

t.test('GET /api/user refuses a valid token of an account that was disabled or deleted', async t => {
  const { app } = await build(t)
  const { token } = await registerAndLogin(app)
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  await app.lcauth.storage.users.update(user?.id as string, { disabledAt: new Date() }, new Date())
  const disabled = await app.inject({ url: '/api/user', headers: { authorization: `Bearer ${token}` } })
  t.equal(disabled.statusCode, 401)
  t.equal(disabled.json().code, 'FST_LCAUTH_UNAUTHORIZED')
  await app.lcauth.storage.users.delete(user?.id as string, new Date())
  t.equal((await app.inject({ url: '/api/user', headers: { authorization: `Bearer ${token}` } })).statusCode, 401)
})

t.test('the plugin closes the storage it created, and leaves one passed in open', async t => {
  const passed = memoryStorage()
  let closed = false
  const app = Fastify()
  await app.register(authPlugin, { ...baseOptions, storage: { ...passed, close: async () => { closed = true } } })
  await app.ready()
  await app.close()
  t.equal(closed, false)
})
