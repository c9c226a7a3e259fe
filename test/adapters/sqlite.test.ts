import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import t, { type Test } from 'tap'
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrateToLatest, migrations } from '../../lib/adapters/sql/migrations.ts'
import type { Database } from '../../lib/adapters/sql/schema.ts'
import { sqliteStorage } from '../../lib/adapters/sql/sqlite.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { storageConformance } from '../conformance/storage.ts'
import { at, MINUTE, newIdentity, newSession, newUser, parallel, unique, type TestFn } from '../conformance/types.ts'
import { bansOf, sqlBanStoreConformance, twoStoresShareState } from '../helpers/ban-store.ts'
import { insertOldUser } from '../helpers/old-schema.ts'

const dir = mkdtempSync(join(tmpdir(), 'lcauth-sqlite-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/** A path in a directory that does not exist yet (the storage creates it). */
const tempFile = (): string => join(dir, randomBytes(6).toString('hex'), 'auth.db')

const removeDatabase = (filename: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(filename + suffix, { force: true })
}

/** A migrated storage on a fresh file, removed when closed. */
async function fresh (filename = tempFile()): Promise<Storage> {
  const storage = sqliteStorage({ filename })
  await storage.init()
  return { ...storage, close: async () => { await storage.close(); removeDatabase(filename) } }
}

/** A second, plain connection to the same file, as another process would have. */
function raw (t: Test, filename: string): BetterSqlite3.Database {
  const database = new BetterSqlite3(filename)
  t.teardown(() => database.close())
  return database
}

const tables = (database: BetterSqlite3.Database): string[] =>
  database.prepare("select name from sqlite_master where type = 'table' and name like 'lcauth%' order by name").pluck().all() as string[]

const test: TestFn = (name, fn) => t.test(name, async () => { await fn() })
storageConformance(test, fresh)

sqlBanStoreConformance(test, fresh)

t.test('sqlite storage says what it is and keeps its file in WAL mode with enforced foreign keys', async t => {
  const filename = tempFile()
  const storage = await fresh(filename)
  t.teardown(() => storage.close())
  t.equal(storage.kind, 'sqlite')
  t.equal(raw(t, filename).pragma('journal_mode', { simple: true }), 'wal')
  await t.rejects(storage.identities.create(newIdentity('no-such-user')), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })
})

t.test('two connections to one file: of 20 concurrent first creations exactly one is ADMIN', async t => {
  const filename = tempFile()
  const [a, b] = [sqliteStorage({ filename }), sqliteStorage({ filename })]
  t.teardown(async () => { await a.close(); await b.close() })
  await a.init()
  await b.init()
  const created = await parallel(20, i => (i % 2 === 0 ? a : b).users.create(newUser(), at(0)))
  t.equal(created.filter(u => u !== null).length, 20)
  t.equal(created.filter(u => u?.role === 'ADMIN').length, 1)
})

t.test('separate processes on one fresh file: concurrent migrations apply once, exactly one first user is ADMIN', async t => {
  const filename = tempFile()
  const module = fileURLToPath(new URL('../../lib/adapters/sql/sqlite.ts', import.meta.url))
  const startAt = Date.now() + 1500
  // Each process waits for the same moment, then migrates and creates 10 users at once.
  const script = `
    import { sqliteStorage } from ${JSON.stringify(module)}
    await new Promise(resolve => setTimeout(resolve, ${startAt} - Date.now()))
    const storage = sqliteStorage({ filename: ${JSON.stringify(filename)} })
    await storage.init()
    const user = i => ({ email: 'p' + process.pid + '-' + i + '@example.test', name: 'n', username: null, provider: 'local', emailVerified: false, passwordHash: null })
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.users.create(user(i), new Date())))
    await storage.close()
    console.log(JSON.stringify(created.map(u => u && u.role)))`
  // tsx loads the TypeScript source in the children; tap's process tracking would record their
  // coverage of the tsx-compiled files over this process's, so it is switched off for them.
  const run = (): Promise<{ stdout: string }> => promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  })
  const outputs = await Promise.all([run(), run(), run(), run()])
  const roles = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as Array<string | null>)
  t.equal(roles.length, 40)
  t.equal(roles.filter(role => role === 'ADMIN').length, 1)
  t.equal(roles.filter(role => role === 'USER').length, 39)
  t.same(raw(t, filename).prepare('select name from lcauth_migrations').pluck().all(), ['0001_initial', '0002_moderation', '0003_revocation_feed', '0004_email_verified_by'])
  removeDatabase(filename)
})

t.test('migrations: applied once, in one transaction; migrate: false creates nothing', async t => {
  const filename = tempFile()
  const unmigrated = sqliteStorage({ filename, migrate: false })
  await unmigrated.init()
  await t.rejects(unmigrated.users.findById('x'), { message: /no such table: lcauth_users/ })
  await unmigrated.close()
  t.same(tables(raw(t, filename)), [], 'migrate: false leaves a fresh file without tables')

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(filename) }) })
  t.teardown(() => db.destroy())
  t.same(await migrateToLatest(db, 'sqlite'), ['0001_initial', '0002_moderation', '0003_revocation_feed', '0004_email_verified_by'])
  t.same(tables(raw(t, filename)), [
    'lcauth_bans', 'lcauth_identities', 'lcauth_in_flight', 'lcauth_limiter_windows', 'lcauth_migrations', 'lcauth_migrations_lock',
    'lcauth_one_time_tokens', 'lcauth_revocation_counter', 'lcauth_sessions', 'lcauth_users', 'lcauth_violation_scores'
  ])
  const storage = sqliteStorage({ filename })
  t.teardown(() => storage.close())
  await storage.init()
  const user = await storage.users.create(newUser(), at(0))
  await storage.init()
  t.same(await storage.users.findById(user?.id ?? ''), user, 'init() on a migrated file is a no-op')
  t.same(await migrateToLatest(db, 'sqlite'), [])
})

t.test('a failed migration rolls back entirely and says which one failed', async t => {
  const filename = join(dir, 'failing.db')
  const database = raw(t, filename)
  database.exec('create table lcauth_users (id text)')
  const migrating = sqliteStorage({ filename })
  t.teardown(() => migrating.close())
  const error = await migrating.init().catch((e: unknown) => e)
  t.match(error, { message: /could not migrate the sqlite database \(migration 0001_initial\): SqliteError: table "lcauth_users" already exists/ })
  t.ok(error instanceof Error && error.cause instanceof Error)
  t.same(tables(database), ['lcauth_users'], 'nothing of the failed run is left')
})

t.test('migrating a database with an unknown applied migration fails clearly', async t => {
  const filename = tempFile()
  const storage = await fresh(filename)
  t.teardown(() => storage.close())
  raw(t, filename).prepare('insert into lcauth_migrations (name, timestamp) values (?, ?)').run('9999_from_the_future', new Date().toISOString())
  await t.rejects(storage.init(), { message: /could not migrate the sqlite database: .*9999_from_the_future is missing/ })
})

t.test('a busy database answers FST_LCAUTH_STORAGE_UNAVAILABLE after busyTimeoutMs, with the driver error as cause', async t => {
  const filename = tempFile()
  const setup = await fresh(filename)
  await setup.users.create(newUser(), at(0))
  const storage = sqliteStorage({ filename, busyTimeoutMs: 50 })
  t.teardown(async () => { await storage.close(); await setup.close() })
  await storage.init()
  const other = raw(t, filename)
  other.exec('begin immediate')
  const started = Date.now()
  const error = await storage.users.create(newUser(), at(0)).catch((e: unknown) => e)
  t.match(error, { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', statusCode: 503, cause: { code: 'SQLITE_BUSY' } })
  t.ok(Date.now() - started < 2000)
  other.exec('rollback')
  t.ok(await storage.users.create(newUser(), at(0)), 'works again once the lock is gone')
})

t.test('a file that cannot be opened answers FST_LCAUTH_STORAGE_UNAVAILABLE', async t => {
  const storage = sqliteStorage({ filename: dir })
  t.teardown(() => storage.close())
  await t.rejects(storage.init(), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', cause: { code: 'SQLITE_CANTOPEN' } })
})

t.test('a corrupt retired-hash list is a store error, not an empty list', async t => {
  const filename = tempFile()
  const storage = await fresh(filename)
  t.teardown(() => storage.close())
  const owner = await storage.users.create(newUser(), at(0))
  const session = await storage.sessions.create(newSession(owner?.id ?? ''))
  const database = raw(t, filename)
  for (const corrupt of ['{}', '[1]']) {
    database.prepare('update lcauth_sessions set retired_token_hashes = ? where id = ?').run(corrupt, session.id)
    await t.rejects(storage.sessions.findById(session.id), { message: /retired_token_hashes is not a JSON array of strings/ })
  }
})

t.test('close() is idempotent', async t => {
  const storage = sqliteStorage({ filename: tempFile() })
  await storage.init()
  await storage.close()
  await storage.close()
  t.pass()
})

t.test('ban store: kind sqlite, one instance per storage, closing it leaves the storage usable', async t => {
  const storage = await fresh()
  t.teardown(() => storage.close())
  const bans = bansOf(storage)
  t.equal(bans.kind, 'sqlite')
  t.equal(bansOf(storage), bans, 'the same instance on every call')
  t.equal(bans.watch, undefined, 'no push channel: SQL is polled')
  await bans.close()
  await bans.close()
  t.ok(await storage.users.create(newUser(), at(0)), 'the storage still works')
  t.equal(await bans.hit(unique('after-close'), MINUTE, at(0)).then(w => w.count), 1, 'and so does the ban store')
})

t.test('ban store: two storages on one file share bans and counts; concurrent calls through both lose nothing', async t => {
  const filename = tempFile()
  const [a, b] = [sqliteStorage({ filename }), sqliteStorage({ filename })]
  t.teardown(async () => { await a.close(); await b.close() })
  await a.init()
  await b.init()
  await twoStoresShareState(t, bansOf(a), bansOf(b))
})

/** A new database file, an unmigrated storage on it and a migrator to step it by hand; closed when the test ends. */
function unmigratedFile (t: Test): { filename: string, old: Storage, db: Kysely<Database>, migrator: Migrator } {
  const filename = join(dir, `${randomBytes(6).toString('hex')}.db`)
  const old = sqliteStorage({ filename, migrate: false })
  t.teardown(() => old.close())
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(filename) }) })
  t.teardown(() => db.destroy())
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations('sqlite') },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE
  })
  return { filename, old, db, migrator }
}

t.test('ban store: migration 0002 applies to a database migrated only to 0001, keeping its data', async t => {
  const { filename, old, db, migrator } = unmigratedFile(t)
  t.same((await migrator.migrateTo('0001_initial')).results?.map(r => r.migrationName), ['0001_initial'])
  const userId = await insertOldUser(db, 'sqlite')
  await t.rejects(bansOf(old).find({ kind: 'ip', id: '192.0.2.1' }, at(0)), { message: /no such table: lcauth_bans/ })

  t.same(await migrateToLatest(db, 'sqlite'), ['0002_moderation', '0003_revocation_feed', '0004_email_verified_by'])
  const storage = sqliteStorage({ filename })
  t.teardown(() => storage.close())
  await storage.init()
  t.match(await storage.users.findById(userId), { id: userId, name: 'Old User' }, 'the users of 0001 are still there')
  t.equal(await bansOf(storage).addViolation({ kind: 'ip', id: '192.0.2.1' }, 'login', 1, MINUTE, at(0)), 1)
})

t.test('ban store: a busy database answers FST_LCAUTH_STORAGE_UNAVAILABLE, with the driver error as cause', async t => {
  const filename = tempFile()
  const setup = await fresh(filename)
  const storage = sqliteStorage({ filename, busyTimeoutMs: 50 })
  t.teardown(async () => { await storage.close(); await setup.close() })
  await storage.init()
  const other = raw(t, filename)
  other.exec('begin immediate')
  await t.rejects(bansOf(storage).hit(unique('busy'), MINUTE, at(0)), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', cause: { code: 'SQLITE_BUSY' } })
  other.exec('rollback')
  t.equal((await bansOf(storage).hit(unique('busy'), MINUTE, at(0))).count, 1, 'works again once the lock is gone')
})

t.test('opening a new file another connection holds: WAL is retried within the busy timeout, then FST_LCAUTH_STORAGE_UNAVAILABLE', async t => {
  const filename = tempFile()
  // Another connection created the file and holds the write lock: switching to WAL answers SQLITE_BUSY at once.
  mkdirSync(join(filename, '..'), { recursive: true })
  const holder = new BetterSqlite3(filename)
  holder.exec('create table t (x)')
  holder.exec('begin immediate')
  const storage = sqliteStorage({ filename, busyTimeoutMs: 100 })
  const started = Date.now()
  await t.rejects(storage.init(), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', cause: { code: 'SQLITE_BUSY' } })
  t.ok(Date.now() - started >= 90, 'it retried until the busy timeout ran out')
  holder.exec('commit')
  holder.close()
  await storage.close()
  const reopened = sqliteStorage({ filename })
  await reopened.init()
  t.equal(raw(t, filename).pragma('journal_mode', { simple: true }), 'wal', 'once the file is free, it opens in WAL mode')
  await reopened.close()
  removeDatabase(filename)
})

t.test('a file that is not a database fails at once, without retrying', async t => {
  const filename = tempFile()
  mkdirSync(join(filename, '..'), { recursive: true })
  writeFileSync(filename, 'this is not a database file, just some text that is long enough to have a header '.repeat(20))
  const storage = sqliteStorage({ filename, busyTimeoutMs: 5000 })
  const started = Date.now()
  await t.rejects(storage.init())
  t.ok(Date.now() - started < 4000, 'no waiting on an error that is not SQLITE_BUSY')
  await storage.close()
  removeDatabase(filename)
})

t.test('revocation feed: migration 0003 numbers the sessions already revoked by revocation time, and new revocations follow', async t => {
  const { filename, old, db, migrator } = unmigratedFile(t)
  t.same((await migrator.migrateTo('0002_moderation')).results?.map(r => r.migrationName), ['0001_initial', '0002_moderation'])
  const ownerId = await insertOldUser(db, 'sqlite')
  const [later, earlier, live] = [0, 1, 2].map(() => newSession(ownerId))
  for (const s of [later, earlier, live]) await old.sessions.create(s as ReturnType<typeof newSession>)
  await old.sessions.revoke(later?.id ?? '', at(2 * MINUTE))
  await old.sessions.revoke(earlier?.id ?? '', at(MINUTE))

  t.same(await migrateToLatest(db, 'sqlite'), ['0003_revocation_feed', '0004_email_verified_by'])
  const marks = raw(t, filename).prepare('select id, revocation_mark from lcauth_sessions order by rowid').all()
  t.same(marks, [{ id: later?.id, revocation_mark: 2 }, { id: earlier?.id, revocation_mark: 1 }, { id: live?.id, revocation_mark: null }])
  const storage = sqliteStorage({ filename })
  t.teardown(() => storage.close())
  await storage.init()
  const start = await storage.sessions.listRevokedSince(at(0))
  t.equal(start.cursor, '2')
  t.same(start.revocations.map(r => r.id).sort(), [later?.id, earlier?.id].sort())
  await storage.sessions.revoke(live?.id ?? '', at(0))
  t.same((await storage.sessions.listRevokedSince(start.cursor)).revocations, [{ id: live?.id, revokedAt: at(0) }])
  t.equal(raw(t, filename).prepare('select revocation_mark from lcauth_sessions where id = ?').pluck().get(live?.id), 3)
})

t.test('revocation feed: a revocation by another connection to the file, stamped in the past, reaches the next read', async t => {
  const filename = tempFile()
  const [server, cli] = [sqliteStorage({ filename }), sqliteStorage({ filename })]
  t.teardown(async () => { await server.close(); await cli.close(); removeDatabase(filename) })
  await server.init()
  await cli.init()
  const owner = await cli.users.create(newUser(), at(0))
  const session = await cli.sessions.create(newSession(owner?.id ?? ''))
  const first = await server.sessions.listRevokedSince(at(MINUTE))
  await cli.sessions.revoke(session.id, at(MINUTE - 6000))
  t.same((await server.sessions.listRevokedSince(first.cursor)).revocations, [{ id: session.id, revokedAt: at(MINUTE - 6000) }])
})

t.test('migration 0004 records emails verified before it as legacy and leaves unverified ones null', async t => {
  const { filename, db, migrator } = unmigratedFile(t)
  await migrator.migrateTo('0003_revocation_feed')
  const [verified, unverified] = [await insertOldUser(db, 'sqlite', true), await insertOldUser(db, 'sqlite')]

  t.same(await migrateToLatest(db, 'sqlite'), ['0004_email_verified_by'])
  const storage = sqliteStorage({ filename })
  t.teardown(() => storage.close())
  await storage.init()
  t.match(await storage.users.findById(verified), { emailVerified: true, emailVerifiedBy: 'legacy' })
  t.match(await storage.users.findById(unverified), { emailVerified: false, emailVerifiedBy: null })
  const created = await storage.users.create(newUser({ emailVerified: true, emailVerifiedBy: 'operator' }), at(0))
  t.equal(raw(t, filename).prepare('select email_verified_by from lcauth_users where id = ?').pluck().get(created?.id), 'operator')
})
