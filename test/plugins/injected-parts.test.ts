import Fastify from 'fastify'
import t from 'tap'
import authPlugin, { bcryptHasher, memoryBanStore, memoryMailer, memoryStorage, type AuthOptions } from '../../index.ts'
import { baseOptions, build, login, register } from '../helpers/app.ts'

async function registration (options: Partial<AuthOptions> | Record<string, unknown>): Promise<unknown> {
  const app = Fastify()
  try {
    await app.register(authPlugin, { ...baseOptions, ...options } as AuthOptions)
    await app.ready()
    return null
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}

const { init: _init, ...storageWithoutInit } = memoryStorage()
const storage = memoryStorage()
const { purge: _purge, ...bansWithoutPurge } = memoryBanStore()

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an empty storage', { storage: {} }, /storage is missing init\(\)/],
  ['a storage without init', { storage: storageWithoutInit }, /storage is missing init\(\)/],
  ['a storage missing one session method', { storage: { ...storage, sessions: { ...storage.sessions, rotate: undefined } } }, /storage is missing sessions\.rotate\(\)/],
  ['a storage without users', { storage: { ...storage, users: null } }, /storage is missing users\.create\(\)/],
  ['a storage whose identities are not an object', { storage: { ...storage, identities: 'none' } }, /storage is missing identities\.create\(\)/],
  ['a storage without a kind', { storage: { ...storage, kind: undefined } }, /storage is missing kind/],
  ['a storage whose banStore is not a function', { storage: { ...storage, banStore: 'yes' } }, /storage has a banStore that is not a function/],
  ['a storage that is not an object', { storage: 'sqlite:x.db' }, /storage must be an object/],
  ['an empty ban store', { banStore: {} }, /banStore is missing find\(\)/],
  ['a ban store without purge', { banStore: bansWithoutPurge }, /banStore is missing purge\(\)/],
  ['a mailer without close', { mailer: { send: async () => {} } }, /mailer is missing close\(\)/],
  ['a mailer whose verify is not a function', { mailer: { send: async () => {}, close: async () => {}, verify: true } }, /mailer has a verify that is not a function/],
  ['an empty hasher', { hasher: {} }, /hasher is missing hash\(\)/],
  ['a hasher without needsRehash', { hasher: { hash: async () => 'x', verify: async () => false } }, /hasher is missing needsRehash\(\)/],
  ['accessTokenClaims that is not a function', { accessTokenClaims: { role: 'x' } }, /accessTokenClaims must be a function/],
  ['now that is not a function', { now: new Date() }, /now must be a function/],
  ['wait that is not a function', { wait: 2000 }, /wait must be a function/]
]

for (const [what, options, message] of cases) {
  t.test(`${what} fails registration with a configuration error naming it`, async t => {
    const error = await registration(options)
    t.match(error, { code: 'FST_LCAUTH_CONFIG_INVALID', message })
  })
}

t.test('parts that fit their ports are accepted, class instances included', async t => {
  class CountingHasher {
    readonly inner = bcryptHasher({ rounds: 4 })
    hashes = 0
    async hash (password: string): Promise<string> { this.hashes++; return this.inner.hash(password) }
    async verify (password: string, stored: string): Promise<boolean> { return this.inner.verify(password, stored) }
    needsRehash (stored: string): boolean { return this.inner.needsRehash(stored) }
  }
  const hasher = new CountingHasher()
  const { app } = await build(t, { hasher, storage: memoryStorage(), banStore: memoryBanStore(), mailer: memoryMailer(), allowUnverifiedEmailLogin: true, accessTokenClaims: () => ({ tenant: 't1' }) })
  t.equal((await register(app)).statusCode, 200)
  t.equal((await login(app)).statusCode, 200)
  t.ok(hasher.hashes >= 2, 'the injected hasher does the work')
})

t.test('a hasher whose hashing fails never takes the process down: the login that needs it fails', async t => {
  const failing = { hash: async () => { throw new Error('hasher broke') }, verify: async () => false, needsRehash: () => false }
  const { app } = await build(t, { hasher: failing })
  const response = await login(app, 'nobody@example.test', 'whatever it is')
  t.equal(response.statusCode, 500)
  t.notMatch(response.body, /hasher broke/)
})

t.test('a registration that fails after the storage opened closes what the plugin opened', async t => {
  const { mkdtempSync, existsSync, rmSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'lcauth-parts-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'auth.db')
  const error = await registration({ storage: { url: `sqlite:${file}` }, banStore: { url: 'http://not-redis.example' } })
  t.match(error, { code: 'FST_LCAUTH_CONFIG_INVALID', message: /banStore\.url/ })
  t.ok(existsSync(file), 'the storage was opened and migrated')
  // SQLite removes the WAL and shared-memory files when its last connection closes.
  t.notOk(existsSync(`${file}-wal`) || existsSync(`${file}-shm`), 'and closed again')

  // The same with an SMTP mailer the plugin built, and with a storage URL that opens nothing.
  const smtp = { host: '127.0.0.1', port: 2, from: 'noreply@example.test' }
  t.match(await registration({ storage: { url: `sqlite:${file}` }, mailer: smtp, banStore: { url: 'http://not-redis.example' } }), { code: 'FST_LCAUTH_CONFIG_INVALID' })
  t.notOk(existsSync(`${file}-wal`), 'closed')
  t.match(await registration({ storage: { url: 'mysql://localhost/db' }, mailer: smtp }), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /storage\.url must start with sqlite: or postgres:\/\// })
  t.match(await registration({ storage: memoryStorage(), banStore: { url: 'http://not-redis.example' } }), { code: 'FST_LCAUTH_CONFIG_INVALID' }, 'a storage the host passed in is left to the host')
})
