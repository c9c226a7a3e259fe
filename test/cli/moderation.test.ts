import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { sqliteStorage } from '../../lib/adapters/sql/sqlite.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { alice, build, login, registerAndLogin } from '../helpers/app.ts'
import { cli } from '../helpers/cli.ts'

const PASSWORD = 'a long enough passphrase'

/** A migrated SQLite storage in a folder of its own, removed when the test ends. */
async function sqlite (t: { teardown(fn: () => unknown): void }): Promise<{ storage: Storage, file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lcauth-cli-bans-'))
  const file = join(dir, 'auth.db')
  const storage = sqliteStorage({ filename: file, migrate: true })
  await storage.init()
  t.teardown(async () => {
    await storage.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { storage, file }
}

t.test('ban-user, list-bans and unban: exit codes, output and an audit line for each change', async t => {
  const { storage } = await sqlite(t)
  t.equal((await cli(['create-user', 'bob@example.com', 'Bob'], { stdin: `${PASSWORD}\n`, storage })).code, 0)

  const banned = await cli(['ban-user', 'Bob@Example.com', '30'], { storage })
  t.equal(banned.code, 0, banned.stderr)
  t.match(banned.stdout, /^Banned bob@example.com until \S+; every session ended\.\n$/)
  const audit = JSON.parse(banned.stderr.trim()) as Record<string, unknown>
  t.match(audit, { event: 'ban.created', by: 'operator', reason: 'operator', subject: { kind: 'user' }, userAgent: 'librechat-auth-cli' })
  const expires = Date.parse((audit as { expiresAt: string }).expiresAt)
  t.ok(Math.abs(expires - Date.now() - 30 * 60_000) < 5000, 'thirty minutes from now')

  const listed = await cli(['list-bans'], { storage })
  t.equal(listed.code, 0)
  t.match(listed.stdout, /KIND\s+SUBJECT\s+REASON\s+UNTIL\nuser\s+bob@example.com\s+operator\s+\S+\n1 ban\(s\)\n/)
  const json = await cli(['list-bans', '--json'], { storage })
  t.match(JSON.parse(json.stdout), [{ kind: 'user', subject: 'bob@example.com', reason: 'operator' }])

  const lifted = await cli(['unban', 'BOB@example.com'], { storage })
  t.equal(lifted.code, 0, lifted.stderr)
  t.match(JSON.parse(lifted.stderr.trim()), { event: 'ban.lifted', by: 'operator', subject: { kind: 'user' } })
  t.equal((await cli(['unban', 'bob@example.com'], { storage })).code, 2, 'no ban left: exit 2')
  t.same(JSON.parse((await cli(['list-bans', '--json'], { storage })).stdout), [])
})

t.test('ban-user without minutes uses BAN_DURATION; 0 minutes ends the sessions and records nothing', async t => {
  const { storage } = await sqlite(t)
  await cli(['create-user', 'bob@example.com'], { stdin: `${PASSWORD}\n`, storage })
  const user = await storage.users.findByEmail('bob@example.com')
  const at = new Date()
  await storage.sessions.create({ id: 'cli-ban-session', userId: user?.id as string, refreshTokenHash: 'h', createdAt: at, expiresAt: new Date(at.getTime() + 1e6), absoluteExpiresAt: new Date(at.getTime() + 1e6), userAgent: null, ip: null })

  const soft = await cli(['ban-user', 'bob@example.com', '0'], { storage })
  t.equal(soft.code, 0, soft.stderr)
  t.match(soft.stdout, /no ban recorded/)
  t.not((await storage.sessions.findById('cli-ban-session'))?.revokedAt ?? null, null, 'the session ended')
  t.same(JSON.parse((await cli(['list-bans', '--json'], { storage })).stdout), [])

  const byDefault = await cli(['ban-user', 'bob@example.com'], { storage, env: { BAN_DURATION: '1000 * 60 * 10' } })
  t.equal(byDefault.code, 0)
  const [ban] = JSON.parse((await cli(['list-bans', '--json'], { storage })).stdout) as Array<{ expiresAt: string }>
  t.ok(Math.abs(Date.parse(ban?.expiresAt ?? '') - Date.now() - 10 * 60_000) < 5000, 'BAN_DURATION, read as LibreChat writes it')
})

t.test('unban takes an IP address (an IPv6 one lifts its /64) and refuses anything else', async t => {
  const { storage } = await sqlite(t)
  const bans = storage.banStore?.()
  const at = new Date()
  await bans?.put({ subject: { kind: 'ip', id: '2001:db8:1:2::/64' }, reason: 'logins', createdAt: at, expiresAt: new Date(at.getTime() + 60_000) })
  await bans?.put({ subject: { kind: 'ip', id: '203.0.113.9' }, reason: 'logins', createdAt: at, expiresAt: new Date(at.getTime() + 60_000) })
  t.match((await cli(['list-bans'], { storage })).stdout, /ip\s+2001:db8:1:2::\/64\s+logins/)
  t.equal((await cli(['unban', '2001:db8:1:2:abcd::7'], { storage })).code, 0)
  t.equal((await cli(['unban', '::ffff:203.0.113.9'], { storage })).code, 0, 'an IPv4-mapped form is the same address')
  t.same(JSON.parse((await cli(['list-bans', '--json'], { storage })).stdout), [])
  const nonsense = await cli(['unban', 'not-an-address'], { storage })
  t.equal(nonsense.code, 1)
  t.match(nonsense.stderr, /email address or an IP address/)
  t.equal((await cli(['unban'], { storage })).code, 1)
})

t.test('ban-user exit codes: 2 unknown user, 1 bad minutes or no email', async t => {
  const { storage } = await sqlite(t)
  await cli(['create-user', 'bob@example.com'], { stdin: `${PASSWORD}\n`, storage })
  t.equal((await cli(['ban-user', 'nobody@example.com'], { storage })).code, 2)
  t.equal((await cli(['unban', 'nobody@example.com'], { storage })).code, 2)
  t.equal((await cli(['ban-user', 'bob@example.com', 'ten'], { storage })).code, 1)
  t.equal((await cli(['ban-user', 'bob@example.com', '-5'], { storage })).code, 1)
  t.equal((await cli(['ban-user'], { storage })).code, 1)
})

t.test('the CLI bans and unbans a running server\'s user: sessions end within a second, login answers 403, then 200', async t => {
  const { file } = await sqlite(t)
  const { app } = await build(t, { storage: { url: `sqlite:${file}` } })
  const { token } = await registerAndLogin(app)
  const serverStorage = sqliteStorage({ filename: file, migrate: false })
  t.teardown(() => serverStorage.close())

  const banned = await cli(['ban-user', alice.email, '5'], { storage: serverStorage })
  t.equal(banned.code, 0, banned.stderr)
  const deadline = Date.now() + 1500
  let status = 200
  while (status === 200 && Date.now() < deadline) {
    status = (await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode
    if (status === 200) await sleep(50)
  }
  t.equal(status, 401, 'the access token stopped working')
  await sleep(1100) // the server's ban cache (banCacheTtl, 1 s) has no push channel on SQL
  const refused = await login(app)
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'FST_LCAUTH_BANNED')
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter > 5 * 60 - 5 && retryAfter <= 5 * 60, `about five minutes left (${retryAfter} s)`)

  t.equal((await cli(['unban', alice.email], { storage: serverStorage })).code, 0)
  await sleep(1100)
  t.equal((await login(app)).statusCode, 200)
})

t.test('list-bans names a user that no longer exists by id', async t => {
  const { storage } = await sqlite(t)
  await cli(['create-user', 'gone@example.com'], { stdin: `${PASSWORD}\n`, storage })
  const user = await storage.users.findByEmail('gone@example.com')
  t.equal((await cli(['ban-user', 'gone@example.com', '10'], { storage })).code, 0)
  t.equal((await cli(['delete-user', 'gone@example.com', '--yes'], { storage })).code, 0)
  t.match(JSON.parse((await cli(['list-bans', '--json'], { storage })).stdout), [{ kind: 'user', subject: user?.id }])
})

const redisUri = process.env.REDIS_URI
t.test('with USE_REDIS the commands use the server\'s Redis; an unreachable one is a clear failure', { skip: redisUri === undefined || redisUri === '' ? 'REDIS_URI is not set' : false }, async t => {
  const { storage } = await sqlite(t)
  const env = { USE_REDIS: 'true', REDIS_URI: redisUri as string, REDIS_KEY_PREFIX: `lcauth-cli-${process.pid}-${Date.now()}:` }
  await cli(['create-user', 'bob@example.com'], { stdin: `${PASSWORD}\n`, storage })
  t.equal((await cli(['ban-user', 'bob@example.com', '5'], { storage, env })).code, 0)
  t.match(JSON.parse((await cli(['list-bans', '--json'], { storage, env })).stdout), [{ subject: 'bob@example.com' }])
  t.same(JSON.parse((await cli(['list-bans', '--json'], { storage })).stdout), [], 'not in the SQL store')
  t.equal((await cli(['unban', 'bob@example.com'], { storage, env })).code, 0)
  const down = await cli(['list-bans'], { storage, env: { ...env, REDIS_URI: 'redis://127.0.0.1:1' } })
  t.equal(down.code, 1)
  t.notMatch(down.stderr, /\n\s+at /, 'one line, no stack trace')
  const { file } = await sqlite(t)
  const opened = await cli(['list-bans'], { env: { ...env, DATABASE_URL: `sqlite:${file}`, REDIS_URI: 'redis://127.0.0.1:1' } })
  t.equal(opened.code, 1, 'a database the CLI opened itself is closed too')
})
