import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import authPlugin, { openStorage } from '../../index.ts'
import { baseOptions } from '../helpers/app.ts'

const refusal = async (url: string): Promise<string> => openStorage(url).then(() => 'opened', (error: Error) => error.message)

t.test('sqlite: URLs open a migrated file', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lcauth-open-'))
  for (const url of [`sqlite:${dir}/a.db`, `sqlite://${dir}/b.db`]) {
    const storage = await openStorage(url)
    t.equal(storage.kind, 'sqlite', url)
    await storage.init()
    t.same(await storage.users.list({ offset: 0, limit: 1 }), [])
    await storage.close()
  }
})

t.test('bad URLs are configuration errors naming the option, never echoing the URL', async t => {
  t.match(await refusal('sqlite:'), /DATABASE_URL needs a file name/)
  t.match(await refusal('mysql://root:hunter2@localhost/db'), /DATABASE_URL must start with sqlite: or postgres:\/\//)
  t.notMatch(await refusal('mysql://root:hunter2@localhost/db'), /hunter2/)
  t.match(await refusal('postgres://[bad'), /DATABASE_URL is not a valid postgres:\/\/ URL/)
  t.match(await openStorage('redis://x').catch((e: Error) => e.message), /FST_LCAUTH_CONFIG_INVALID|must start with/)
  t.match(await openStorage('nope', { option: 'storage.url' }).catch((e: Error) => e.message), /storage.url must start with/)
})

t.test('postgres: a URL with ?schema= keeps the tables in that schema', { skip: process.env.DATABASE_URL === undefined ? 'DATABASE_URL is not set' : false }, async t => {
  const schema = `lcauth_open_${process.pid}`
  const base = process.env.DATABASE_URL as string
  const storage = await openStorage(`${base}${base.includes('?') ? '&' : '?'}schema=${schema}`)
  t.teardown(async () => {
    const cleanup = await openStorage(base, { migrate: false })
    const pg = await import('pg')
    const client = new pg.default.Client({ connectionString: base })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
    await cleanup.close()
  })
  t.equal(storage.kind, 'postgres')
  await storage.init()
  t.ok(await storage.users.create({ email: 'a@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: false, passwordHash: null }, new Date()))
  await storage.close()
})

t.test('the plugin opens, migrates and closes a storage named by URL', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'lcauth-open-'))
  const app = Fastify()
  await app.register(authPlugin, { ...baseOptions, storage: { url: `sqlite:${dir}/plugin.db` } })
  await app.ready()
  t.equal(app.lcauth.storage.kind, 'sqlite')
  const r = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'Alice', email: 'a@example.test', password: 'correct horse battery', confirm_password: 'correct horse battery' } })
  t.equal(r.statusCode, 200)
  await app.close()
  // Closed: the connection no longer answers.
  await t.rejects(app.lcauth.storage.users.findByEmail('a@example.test'))

  const unmigrated = Fastify()
  t.teardown(() => unmigrated.close())
  await unmigrated.register(authPlugin, { ...baseOptions, storage: { url: `sqlite:${dir}/fresh.db`, migrate: false } })
  await t.rejects(async () => { await unmigrated.ready() }, /no such table/, 'migrate: false on an empty database stops the start with the reason')
})
