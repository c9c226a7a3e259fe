import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kysely, Migrator, PostgresDialect } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrations } from '../../lib/adapters/sql/migrations.ts'
import { postgresStorage } from '../../lib/adapters/sql/postgres.ts'
import type { Database } from '../../lib/adapters/sql/schema.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { storageConformance } from '../conformance/storage.ts'
import { at, MINUTE, newSession, newUser, parallel, unique, type TestFn } from '../conformance/types.ts'
import { bansOf, sqlBanStoreConformance, twoStoresShareState } from '../helpers/ban-store.ts'
import { insertOldUser } from '../helpers/old-schema.ts'
import { withService } from '../helpers/services.ts'

withService(t, 'DATABASE_URL', 'postgres', suite)

function suite (url: string): void {
  const admin = new pg.Pool({ connectionString: url, max: 2 })
  t.teardown(() => admin.end())

  const newSchema = (): string => `lcauth_t_${randomBytes(6).toString('hex')}`
  /** A new, empty schema with a one-connection Kysely and a migrator on it, dropped when the test ends. */
  const freshSchema = async (t: Test): Promise<{ schema: string, db: Kysely<Database>, migrator: Migrator }> => {
    const schema = newSchema()
    await admin.query(`create schema "${schema}"`)
    t.teardown(() => dropSchema(schema))
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: withParams({ options: `-c search_path=${schema}` }), max: 1 }) })
    })
    t.teardown(() => db.destroy())
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations('postgres') },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      migrationTableSchema: schema
    })
    return { schema, db, migrator }
  }
  const dropSchema = async (schema: string): Promise<void> => { await admin.query(`drop schema if exists "${schema}" cascade`) }

  /** `url` with extra connection parameters (libpq style, as pg reads them from the query string). */
  const withParams = (params: Record<string, string>): string => {
    const next = new URL(url)
    for (const [key, value] of Object.entries(params)) next.searchParams.set(key, value)
    return next.toString()
  }

  /** A migrated storage in a schema of its own, dropped when closed. */
  async function fresh (): Promise<Storage> {
    const schema = newSchema()
    const storage = postgresStorage({ connectionString: url, schema })
    const close = async (): Promise<void> => { await storage.close(); await dropSchema(schema) }
    await storage.init().catch(async (error: unknown) => { await close(); throw error })
    return { ...storage, close }
  }

  const test: TestFn = (name, fn) => t.test(name, async () => { await fn() })
  storageConformance(test, fresh)

  sqlBanStoreConformance(test, fresh)

  t.test('postgres storage says what it is and uses timestamptz and boolean columns', async t => {
    const schema = newSchema()
    const storage = postgresStorage({ connectionString: url, schema })
    t.teardown(async () => { await storage.close(); await dropSchema(schema) })
    await storage.init()
    t.equal(storage.kind, 'postgres')
    const { rows } = await admin.query(
      `select table_name, column_name, data_type from information_schema.columns
       where table_schema = $1 and column_name in ('created_at', 'email_verified') order by table_name, column_name`, [schema])
    t.same(rows, [
      { table_name: 'lcauth_bans', column_name: 'created_at', data_type: 'timestamp with time zone' },
      { table_name: 'lcauth_identities', column_name: 'created_at', data_type: 'timestamp with time zone' },
      { table_name: 'lcauth_identities', column_name: 'email_verified', data_type: 'boolean' },
      { table_name: 'lcauth_one_time_tokens', column_name: 'created_at', data_type: 'timestamp with time zone' },
      { table_name: 'lcauth_sessions', column_name: 'created_at', data_type: 'timestamp with time zone' },
      { table_name: 'lcauth_users', column_name: 'created_at', data_type: 'timestamp with time zone' },
      { table_name: 'lcauth_users', column_name: 'email_verified', data_type: 'boolean' }
    ])
  })

  t.test('two storages on one schema: concurrent migrations apply once; of 20 concurrent first creations exactly one is ADMIN', async t => {
    const schema = newSchema()
    const [a, b] = [postgresStorage({ connectionString: url, schema, pool: { max: 3 } }), postgresStorage({ connectionString: url, schema })]
    t.teardown(async () => { await a.close(); await b.close(); await dropSchema(schema) })
    await Promise.all([a.init(), b.init()])
    const { rows } = await admin.query(`select name from "${schema}".lcauth_migrations`)
    t.same(rows, [{ name: '0001_initial' }, { name: '0002_moderation' }, { name: '0003_revocation_feed' }, { name: '0004_email_verified_by' }])
    const created = await parallel(20, i => (i % 2 === 0 ? a : b).users.create(newUser(), at(0)))
    t.equal(created.filter(u => u !== null).length, 20)
    t.equal(created.filter(u => u?.role === 'ADMIN').length, 1)
  })

  t.test('without a schema option, the tables go to the connection\'s current schema', async t => {
    const schema = newSchema()
    await admin.query(`create schema "${schema}"`)
    t.teardown(() => dropSchema(schema))
    const storage = postgresStorage({ connectionString: withParams({ options: `-c search_path=${schema}` }) })
    t.teardown(() => storage.close())
    await storage.init()
    t.ok(await storage.users.create(newUser(), at(0)))
    const { rows } = await admin.query(`select count(*)::int as n from "${schema}".lcauth_users`)
    t.same(rows, [{ n: 1 }])

    const nowhere = postgresStorage({ connectionString: withParams({ options: `-c search_path=${newSchema()}` }) })
    t.teardown(() => nowhere.close())
    await t.rejects(nowhere.init(), { message: /no schema on the search_path exists/ })
  })

  t.test('migrate: false creates nothing', async t => {
    const schema = newSchema()
    const storage = postgresStorage({ connectionString: url, schema, migrate: false })
    t.teardown(() => storage.close())
    await storage.init()
    await t.rejects(storage.users.findById('x'), { code: '42P01' }, 'no table')
    const { rows } = await admin.query('select count(*)::int as n from information_schema.schemata where schema_name = $1', [schema])
    t.same(rows, [{ n: 0 }], 'not even the schema')
  })

  t.test('an unreachable database answers FST_LCAUTH_STORAGE_UNAVAILABLE quickly, never hangs', async t => {
    const unreachable = 'postgres://postgres@127.0.0.1:1/test'
    for (const storage of [postgresStorage({ connectionString: unreachable, schema: newSchema() }), postgresStorage({ connectionString: unreachable })]) {
      t.teardown(() => storage.close())
      const started = Date.now()
      await t.rejects(storage.init(), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', statusCode: 503, cause: { code: 'ECONNREFUSED' } })
      await t.rejects(storage.users.findById('x'), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE' })
      t.ok(Date.now() - started < 6000)
    }
  })

  t.test('a connection killed mid-query answers FST_LCAUTH_STORAGE_UNAVAILABLE; killed idle ones are replaced', async t => {
    const schema = newSchema()
    const storage = postgresStorage({ connectionString: withParams({ application_name: schema }), schema })
    t.teardown(async () => { await storage.close(); await dropSchema(schema) })
    await storage.init()
    const owner = await storage.users.create(newUser(), at(0))
    const session = await storage.sessions.create(newSession(owner?.id ?? ''))
    const kill = (state: string): Promise<pg.QueryResult> => admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and state = $2', [schema, state])

    // Idle connections killed (a server restart): the pool drops them and the process lives on.
    t.ok(((await kill('idle')).rowCount ?? 0) > 0)
    await sleep(100)
    t.same(await storage.sessions.findById(session.id), session)

    // A connection killed while its query waits on a lock held elsewhere.
    const locker = await admin.connect()
    t.teardown(() => locker.release())
    await locker.query('begin')
    await locker.query(`select 1 from "${schema}".lcauth_sessions where id = $1 for update`, [session.id])
    const revoking = storage.sessions.revoke(session.id, at(0)).catch((error: unknown) => error)
    for (let i = 0; i < 50 && (await kill('active')).rowCount === 0; i++) await sleep(20)
    t.match(await revoking, { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', cause: { code: '57P01' } })
    await locker.query('rollback')
    await sleep(200) // the killed backend's socket closes a moment after its error, and the pool then drops it
    t.equal(await storage.sessions.revoke(session.id, at(0)), true, 'a new connection serves the next call')
  })

  t.test('ban store: kind postgres, one instance per storage, closing it leaves the storage usable', async t => {
    const storage = await fresh()
    t.teardown(() => storage.close())
    const bans = bansOf(storage)
    t.equal(bans.kind, 'postgres')
    t.equal(bansOf(storage), bans, 'the same instance on every call')
    t.equal(bans.watch, undefined, 'no push channel: SQL is polled')
    await bans.close()
    await bans.close()
    t.ok(await storage.users.create(newUser(), at(0)), 'the storage still works')
    t.equal(await bans.hit(unique('after-close'), MINUTE, at(0)).then(w => w.count), 1, 'and so does the ban store')
  })

  t.test('ban store: two storages on one schema share bans and counts; concurrent calls through both lose nothing', async t => {
    const schema = newSchema()
    const [a, b] = [postgresStorage({ connectionString: url, schema }), postgresStorage({ connectionString: url, schema })]
    t.teardown(async () => { await a.close(); await b.close(); await dropSchema(schema) })
    await Promise.all([a.init(), b.init()])
    await twoStoresShareState(t, bansOf(a), bansOf(b))
  })

  t.test('ban store: migration 0002 applies to a schema migrated only to 0001, keeping its data', async t => {
    const { schema, db, migrator } = await freshSchema(t)
    t.same((await migrator.migrateTo('0001_initial')).results?.map(r => r.migrationName), ['0001_initial'])
    const old = postgresStorage({ connectionString: url, schema, migrate: false })
    t.teardown(() => old.close())
    const userId = await insertOldUser(db, 'postgres')
    await t.rejects(bansOf(old).find({ kind: 'ip', id: '192.0.2.1' }, at(0)), { code: '42P01' }, 'no ban table yet')

    const storage = postgresStorage({ connectionString: url, schema })
    t.teardown(() => storage.close())
    await storage.init()
    const { rows } = await admin.query(`select name from "${schema}".lcauth_migrations order by name`)
    t.same(rows, [{ name: '0001_initial' }, { name: '0002_moderation' }, { name: '0003_revocation_feed' }, { name: '0004_email_verified_by' }])
    t.match(await storage.users.findById(userId), { id: userId, name: 'Old User' }, 'the users of 0001 are still there')
    t.equal(await bansOf(storage).addViolation({ kind: 'ip', id: '192.0.2.1' }, 'login', 1, MINUTE, at(0)), 1)
  })
  t.test('revocation feed: a revocation committed after a later one, or after waiting on a lock, is still listed', async t => {
    const schema = newSchema()
    const storage = postgresStorage({ connectionString: url, schema })
    t.teardown(async () => { await storage.close(); await dropSchema(schema) })
    await storage.init()
    const owner = await storage.users.create(newUser(), at(0))
    const [first, second, locked] = await Promise.all([0, 1, 2].map(() => storage.sessions.create(newSession(owner?.id ?? ''))))
    const start = await storage.sessions.listRevokedSince(at(0))
    t.same(start.revocations, [])

    // `first` is revoked by a statement that runs before `second`'s but commits after it.
    const other = await admin.connect()
    t.teardown(() => other.release())
    await other.query('begin')
    await other.query(`update "${schema}".lcauth_sessions set revoked_at = $1 where id = $2`, [at(0), first?.id])
    await sleep(20)
    await storage.sessions.revoke(second?.id ?? '', at(0))
    const afterSecond = await storage.sessions.listRevokedSince(start.cursor)
    t.same(afterSecond.revocations.map(r => r.id), [second?.id])
    await sleep(20)
    await other.query('commit')
    const afterFirst = await storage.sessions.listRevokedSince(afterSecond.cursor)
    t.ok(afterFirst.revocations.some(r => r.id === first?.id), 'the earlier statement, committed later, is listed')

    // A revoke that waits on a row lock while the feed is read.
    await other.query('begin')
    await other.query(`select 1 from "${schema}".lcauth_sessions where id = $1 for update`, [locked?.id])
    const revoking = storage.sessions.revoke(locked?.id ?? '', at(0))
    await sleep(300)
    const during = await storage.sessions.listRevokedSince(afterFirst.cursor)
    t.notOk(during.revocations.some(r => r.id === locked?.id))
    await other.query('commit')
    t.equal(await revoking, true)
    t.ok((await storage.sessions.listRevokedSince(during.cursor)).revocations.some(r => r.id === locked?.id))
  })

  t.test('revocation feed: migration 0003 marks the sessions already revoked with their revocation time; the trigger marks new ones', async t => {
    const { schema, db, migrator } = await freshSchema(t)
    t.same((await migrator.migrateTo('0002_moderation')).results?.map(r => r.migrationName), ['0001_initial', '0002_moderation'])
    const old = postgresStorage({ connectionString: url, schema, migrate: false })
    t.teardown(() => old.close())
    const ownerId = await insertOldUser(db, 'postgres')
    // One after the other: the test reads them back in insertion order.
    const revoked = await old.sessions.create(newSession(ownerId))
    const live = await old.sessions.create(newSession(ownerId))
    await old.sessions.revoke(revoked.id, at(MINUTE))

    const storage = postgresStorage({ connectionString: url, schema })
    t.teardown(() => storage.close())
    await storage.init()
    const marks = async (): Promise<unknown[]> => (await admin.query(`select id, revocation_mark from "${schema}".lcauth_sessions order by seq`)).rows
    t.same(await marks(), [{ id: revoked.id, revocation_mark: at(MINUTE) }, { id: live.id, revocation_mark: null }])
    const start = await storage.sessions.listRevokedSince(at(0))
    t.same(start.revocations, [{ id: revoked.id, revokedAt: at(MINUTE) }])
    const before = Date.now()
    await storage.sessions.revoke(live.id, at(0))
    const mark = (await marks())[1] as { revocation_mark: Date }
    t.ok(Math.abs(mark.revocation_mark.getTime() - before) < 5000, 'marked by the database clock, not the revocation time')
    t.ok((await storage.sessions.listRevokedSince(start.cursor)).revocations.some(r => r.id === live.id))
  })
  t.test('migration 0004 records emails verified before it as legacy and leaves unverified ones null', async t => {
    const { schema, db, migrator } = await freshSchema(t)
    await migrator.migrateTo('0003_revocation_feed')
    const [verified, unverified] = [await insertOldUser(db, 'postgres', true), await insertOldUser(db, 'postgres')]

    const storage = postgresStorage({ connectionString: url, schema })
    t.teardown(() => storage.close())
    await storage.init()
    const { rows } = await admin.query(`select name from "${schema}".lcauth_migrations order by name`)
    t.equal(rows.at(-1)?.name, '0004_email_verified_by')
    t.match(await storage.users.findById(verified), { emailVerified: true, emailVerifiedBy: 'legacy' })
    t.match(await storage.users.findById(unverified), { emailVerified: false, emailVerifiedBy: null })
    const created = await storage.users.create(newUser({ emailVerified: true, emailVerifiedBy: 'operator' }), at(0))
    const stored = await admin.query(`select email_verified_by from "${schema}".lcauth_users where id = $1`, [created?.id])
    t.same(stored.rows, [{ email_verified_by: 'operator' }])
  })

  t.test('timeoutMs: statements are cancelled by the server past it; migrations are not bound by it; out of range is refused', async t => {
    t.throws(() => postgresStorage({ connectionString: url, timeoutMs: 50 }), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /timeoutMs must be an integer from 100 to 60000/ })
    const { schema, migrator } = await freshSchema(t)
    await migrator.migrateTo('0002_moderation')

    // Migration 0003 alters lcauth_sessions, which another transaction holds for 500 ms.
    const storage = postgresStorage({ connectionString: url, schema, timeoutMs: 100 })
    t.teardown(() => storage.close())
    const locker = await admin.connect()
    t.teardown(() => locker.release())
    await locker.query('begin')
    await locker.query(`lock table "${schema}".lcauth_sessions in access exclusive mode`)
    const migrating = storage.init()
    await sleep(500)
    await locker.query('commit')
    await migrating
    const { rows } = await admin.query(`select name from "${schema}".lcauth_migrations order by name`)
    t.equal(rows.length, 4, 'migrated, though it waited longer than timeoutMs')

    // Afterwards every statement is bound again: one waiting on a row lock is cancelled (SQLSTATE 57014).
    const owner = await storage.users.create(newUser(), at(0))
    const session = await storage.sessions.create(newSession(owner?.id ?? ''))
    await locker.query('begin')
    await locker.query(`select 1 from "${schema}".lcauth_sessions where id = $1 for update`, [session.id])
    const started = Date.now()
    await t.rejects(storage.sessions.revoke(session.id, at(0)), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', cause: { code: '57014' } })
    t.ok(Date.now() - started < 1000, 'cancelled after about timeoutMs')
    await locker.query('rollback')
    t.equal(await storage.sessions.revoke(session.id, at(0)), true)
  })
}
