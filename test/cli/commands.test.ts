import { readFile } from 'node:fs/promises'
import t from 'tap'
import { memoryStorage } from '../../index.ts'
import { cli } from '../helpers/cli.ts'

const PASSWORD = 'a long enough passphrase'

t.test('create-user reads the password from stdin, never from argv; first user is ADMIN', async t => {
  const storage = memoryStorage()
  const r = await cli(['create-user', 'Alice@Example.com'], { stdin: `${PASSWORD}\n${PASSWORD}\n`, storage })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Created alice@example.com \(ADMIN\)/)
  t.notMatch(r.stdout + r.stderr, PASSWORD)
  const user = await storage.users.findByEmail('alice@example.com')
  t.match(user, { name: 'Alice', username: 'Alice', role: 'ADMIN', emailVerified: false, provider: 'local' })
  t.equal(user?.emailVerifiedBy, null, 'nobody vouched for the email')
  t.match(user?.passwordHash, /^\$lcsha256\$/)

  const second = await cli(['create-user', 'bob@example.com', 'Bob Builder', 'bob', '--verified'], { stdin: `${PASSWORD}\n`, storage })
  t.equal(second.code, 0)
  t.match(await storage.users.findByEmail('bob@example.com'), { name: 'Bob Builder', username: 'bob', role: 'USER', emailVerified: true, emailVerifiedBy: 'operator' })
  const admin = await cli(['create-user', 'carol@example.com', 'Carol', '--admin'], { stdin: `${PASSWORD}\n`, storage })
  t.equal(admin.code, 0)
  t.match(await storage.users.findByEmail('carol@example.com'), { role: 'ADMIN' })
})

t.test('create-user refuses a name with a web address or a control character, as registration does', async t => {
  const storage = memoryStorage()
  for (const name of ['visit evil.test/fix', 'https://evil.test', 'Evil\u202eName']) {
    const r = await cli(['create-user', 'a@example.com', name], { stdin: `${PASSWORD}\n`, storage })
    t.equal(r.code, 1, `refused: ${JSON.stringify(name)}`)
    t.match(r.stderr, /Name (must not contain a web address|contains characters that are not allowed)/)
    t.notOk(r.stderr.includes(name), 'without echoing the name')
  }
  t.equal(await storage.users.findByEmail('a@example.com'), null)
  t.equal((await cli(['create-user', 'a@example.com', 'Dr. J. R. R. Tolkien'], { stdin: `${PASSWORD}\n`, storage })).code, 0)
})

t.test('create-user exit codes: 1 usage, 2 duplicate, 3 policy', async t => {
  const storage = memoryStorage()
  t.equal((await cli(['create-user'], { storage })).code, 1)
  t.equal((await cli(['create-user', 'a@example.com', '--password', 'x'], { storage })).code, 1, 'no --password flag: argv shows in ps and shell history')
  t.equal((await cli(['create-user', 'not-an-email'], { stdin: `${PASSWORD}\n`, storage })).code, 1)
  const blank = await cli(['create-user', 'a@example.com'], { stdin: '\n', storage })
  t.equal(blank.code, 3)
  t.match(blank.stderr, /cannot be blank/)
  t.equal((await cli(['create-user', 'a@example.com'], { stdin: '', storage })).code, 3, 'no input at all is a blank password')
  t.equal((await cli(['create-user', 'a@example.com'], { stdin: 'short\n', storage })).code, 3)
  t.equal((await cli(['create-user', 'a@example.com'], { stdin: 'password\n', storage })).code, 3, 'a common password')
  t.equal((await cli(['create-user', 'a@example.com'], { stdin: `${PASSWORD}\nsomething else\n`, storage })).code, 3, 'the second line must match')
  t.equal((await cli(['create-user', 'a@example.com'], { stdin: `${PASSWORD}\n`, storage })).code, 0)
  const duplicate = await cli(['create-user', 'A@EXAMPLE.COM'], { stdin: `${PASSWORD}\n`, storage })
  t.equal(duplicate.code, 2)
  t.match(duplicate.stderr, /already exists/)
  t.notMatch(duplicate.stderr, /\n\s+at /, 'no stack trace')
})

t.test('a hidden prompt on a terminal asks twice and echoes nothing', async t => {
  const storage = memoryStorage()
  const r = await cli(['create-user', 'tty@example.com'], { stdin: `${PASSWORD}\r${PASSWORD}\r`, tty: true, storage })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /Password: \nRepeat the password: \n/)
  t.notMatch(r.stderr + r.stdout, PASSWORD)
})

t.test('delete-user asks for confirmation unless --yes, revokes sessions, removes everything', async t => {
  const storage = memoryStorage()
  await cli(['create-user', 'alice@example.com'], { stdin: `${PASSWORD}\n`, storage })
  const user = await storage.users.findByEmail('alice@example.com')
  const session = await storage.sessions.create({ id: 's1', userId: user?.id as string, refreshTokenHash: 'h', createdAt: new Date(), expiresAt: new Date(Date.now() + 1e6), absoluteExpiresAt: new Date(Date.now() + 1e6), userAgent: null, ip: null })

  const noTerminal = await cli(['delete-user', 'alice@example.com'], { storage })
  t.equal(noTerminal.code, 1)
  t.match(noTerminal.stderr, /--yes/)
  const declined = await cli(['delete-user', 'alice@example.com'], { storage, tty: true, stdin: 'no\n' })
  t.equal(declined.code, 0)
  t.match(declined.stdout, /Nothing deleted/)
  t.ok(await storage.users.findByEmail('alice@example.com'))

  const confirmed = await cli(['delete-user', 'alice@example.com'], { storage, tty: true, stdin: 'yes\n' })
  t.equal(confirmed.code, 0)
  t.match(confirmed.stdout, /Deleted alice@example.com; 1 session\(s\) ended/)
  t.equal(await storage.users.findByEmail('alice@example.com'), null)
  t.not((await storage.sessions.findById(session.id))?.revokedAt, null, 'revoked, kept for the other instances to see')

  const unknown = await cli(['delete-user', 'alice@example.com', '--yes'], { storage })
  t.equal(unknown.code, 2, 'CLI-02: an unknown user exits 2')
  t.match(unknown.stderr, /no user with the email/)
})

t.test('list-users as a table and as JSON', async t => {
  const storage = memoryStorage()
  t.match((await cli(['list-users'], { storage })).stdout, /0 user\(s\)/)
  await cli(['create-user', 'alice@example.com', 'Alice Liddell'], { stdin: `${PASSWORD}\n`, storage })
  await cli(['create-user', 'bob@example.com', 'Bob Builder', '--verified'], { stdin: `${PASSWORD}\n`, storage })
  const table = await cli(['list-users'], { storage })
  t.match(table.stdout, /bob@example.com\s+Bob Builder\s+USER\s+local\s+yes\s+no/)
  t.match(table.stdout, /EMAIL\s+NAME\s+ROLE/)
  t.match(table.stdout, /alice@example.com\s+Alice Liddell\s+ADMIN\s+local\s+no\s+no/)
  t.match(table.stdout, /2 user\(s\)/)
  const json = JSON.parse((await cli(['list-users', '--json'], { storage })).stdout) as Array<Record<string, unknown>>
  t.match(json, [{ email: 'alice@example.com', role: 'ADMIN', disabled: false }, { email: 'bob@example.com', role: 'USER' }])
  t.notOk(JSON.stringify(json).includes('passwordHash'))
})

t.test('reset-password, set-role, disable-user and enable-user', async t => {
  const storage = memoryStorage()
  await cli(['create-user', 'alice@example.com'], { stdin: `${PASSWORD}\n`, storage })
  const user = await storage.users.findByEmail('alice@example.com')
  const live = async (): Promise<number> => (await storage.sessions.listLiveByUser(user?.id as string, new Date())).length
  const open = async (id: string): Promise<void> => { await storage.sessions.create({ id, userId: user?.id as string, refreshTokenHash: id, createdAt: new Date(), expiresAt: new Date(Date.now() + 1e6), absoluteExpiresAt: new Date(Date.now() + 1e6), userAgent: null, ip: null }) }

  await open('a')
  const before = user?.passwordHash
  t.equal((await cli(['reset-password', 'alice@example.com'], { stdin: 'another long passphrase\n', storage })).code, 0)
  t.not((await storage.users.findByEmail('alice@example.com'))?.passwordHash, before)
  t.equal(await live(), 0, 'a password reset ends every session')
  t.equal((await cli(['reset-password', 'alice@example.com'], { stdin: 'short\n', storage })).code, 3)
  t.equal((await cli(['reset-password', 'nobody@example.com'], { stdin: `${PASSWORD}\n`, storage })).code, 2)

  await open('b')
  t.equal((await cli(['set-role', 'alice@example.com', 'ADMIN'], { storage })).code, 0)
  t.equal(await live(), 1, 'keeping ADMIN ends nothing')
  const demoted = await cli(['set-role', 'alice@example.com', 'user'], { storage })
  t.equal(demoted.code, 0)
  t.match(demoted.stdout, /is now USER/, 'roles are case-insensitive on input')
  t.equal(await live(), 0, 'a demotion ends the sessions')
  t.equal((await cli(['set-role', 'alice@example.com', 'ROOT'], { storage })).code, 1)

  await open('c')
  t.equal((await cli(['disable-user', 'alice@example.com'], { storage })).code, 0)
  t.not((await storage.users.findByEmail('alice@example.com'))?.disabledAt, null)
  t.equal(await live(), 0, 'disabling ends the sessions')
  t.match((await cli(['list-users'], { storage })).stdout, /alice@example.com\s+alice\s+USER\s+local\s+no\s+yes/, 'the table shows who is disabled')
  t.equal((await cli(['enable-user', 'alice@example.com'], { storage })).code, 0)
  t.equal((await storage.users.findByEmail('alice@example.com'))?.disabledAt, null)
  t.equal((await cli(['disable-user'], { storage })).code, 1)
})

t.test('purge and migrate', async t => {
  const storage = memoryStorage()
  await storage.sessions.create({ id: 'old', userId: 'u', refreshTokenHash: 'h', createdAt: new Date(0), expiresAt: new Date(1000), absoluteExpiresAt: new Date(1000), userAgent: null, ip: null })
  const purge = await cli(['purge'], { storage })
  t.equal(purge.code, 0)
  t.match(purge.stdout, /Purged 1 session\(s\), 0 one-time token\(s\) and 0 moderation record\(s\)/)
  t.match((await cli(['migrate'], { storage })).stdout, /The memory database is up to date/)
})

t.test('help, unknown commands and bad variables', async t => {
  const none = await cli([])
  t.equal(none.code, 1)
  t.match(none.stdout, /Usage: librechat-auth <command>/)
  t.equal((await cli(['--help'])).code, 0)
  const topic = await cli(['help', 'create-user'])
  t.equal(topic.code, 0)
  t.match(topic.stdout, /create-user <email> \[name\] \[username\] \[--admin\] \[--verified\]/)
  const flag = await cli(['delete-user', '--help'])
  t.equal(flag.code, 0)
  t.match(flag.stdout, /--yes/)
  const unknown = await cli(['frobnicate'])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /unknown command "frobnicate"/)
  t.equal((await cli(['toString'])).code, 1, 'no prototype keys as commands')
  const bad = await cli(['list-users'], { env: { MIN_PASSWORD_LENGTH: 'eight' }, storage: memoryStorage() })
  t.equal(bad.code, 1)
  t.match(bad.stderr, /MIN_PASSWORD_LENGTH must be a whole number/)
})

t.test('--version and -v print the version from package.json; --help lists them', async t => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-v']) {
    const r = await cli([flag])
    t.same([r.code, r.stdout, r.stderr], [0, `${version}\n`, ''], flag)
  }
  t.match((await cli(['--help'])).stdout, /--version, -v\n\s+Print the version/)
})

t.test('DATABASE_URL picks the database; a last line without a newline still counts', async t => {
  const dir = t.testdir({})
  const env = { DATABASE_URL: `sqlite:${dir}/env.db` }
  t.equal((await cli(['create-user', 'alice@example.com'], { stdin: PASSWORD, env })).code, 0)
  t.match((await cli(['list-users'], { env })).stdout, /alice@example.com/)
  t.equal((await cli(['create-user', '--bogus'], { env })).code, 1, 'a usage error before any database is opened')
})

t.test('a failing storage is a one-line error, exit 1', async t => {
  const storage = memoryStorage()
  const broken = { ...storage, users: { ...storage.users, list: async () => { throw Object.assign(new Error('down'), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE' }) } } }
  const r = await cli(['list-users'], { storage: broken })
  t.equal(r.code, 1)
  t.match(r.stderr, /the database is unreachable or busy/)
  const other = { ...storage, users: { ...storage.users, list: async () => { throw new Error('disk on fire') } } }
  t.match((await cli(['list-users'], { storage: other })).stderr, /failed: disk on fire/)
  const odd = { ...storage, users: { ...storage.users, list: async () => { throw 'a bare string' as unknown as Error } } }
  t.match((await cli(['list-users'], { storage: odd })).stderr, /failed: a bare string/)
})

t.test('a terminal prompt handles backspace, and Ctrl-C cancels', async t => {
  const storage = memoryStorage()
  const typed = `${PASSWORD}x\u007f\r${PASSWORD}\r`
  const r = await cli(['create-user', 'tty@example.com'], { stdin: typed, tty: true, storage })
  t.equal(r.code, 0, r.stderr)
  const cancelled = await cli(['create-user', 'other@example.com'], { stdin: 'abc\u0003', tty: true, storage })
  t.equal(cancelled.code, 1)
  t.match(cancelled.stderr, /cancelled/)
  const echoed = await cli(['delete-user', 'tty@example.com'], { stdin: 'yes\r\n', tty: true, storage })
  t.match(echoed.stderr, /Type "yes" to confirm: yes\n/, 'a confirmation is echoed, a password is not')
  t.equal(await storage.users.findByEmail('tty@example.com'), null)
})

t.test('more arguments: a missing email, many users, unknown help topics', async t => {
  const storage = memoryStorage()
  t.equal((await cli(['delete-user', '--yes'], { storage })).code, 1)
  for (let i = 0; i < 501; i++) {
    await storage.users.create({ email: `user${i}@example.com`, name: `User ${i}`, username: null, provider: 'local', emailVerified: false, passwordHash: null }, new Date(i))
  }
  t.match((await cli(['list-users'], { storage })).stdout, /501 user\(s\)/)
  t.equal((JSON.parse((await cli(['list-users', '--json'], { storage })).stdout) as unknown[]).length, 501)
  const topic = await cli(['help', 'nope'])
  t.equal(topic.code, 0)
  t.match(topic.stdout, /Commands:/)
})

t.test('without DATABASE_URL the CLI uses its default SQLite file (a temp one here; see binary.test.ts for data/)', async t => {
  const dir = t.testdir({})
  const defaultDatabaseUrl = `sqlite:${dir}/data/librechat-auth.db`
  const r = await cli(['create-user', 'alice@example.com'], { stdin: `${PASSWORD}\n`, defaultDatabaseUrl })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, `librechat-auth: database sqlite:${dir}/data/librechat-auth.db\n`, 'it says which database it opened')
  const { existsSync } = await import('node:fs')
  t.ok(existsSync(`${dir}/data/librechat-auth.db`))
  t.match((await cli(['list-users'], { defaultDatabaseUrl })).stdout, /alice@example.com/)
  t.match((await cli(['migrate'], { defaultDatabaseUrl })).stdout, /The sqlite database is up to date/)
  t.match((await cli(['migrate'], { defaultDatabaseUrl: 'sqlite:/dev/null/nope/x.db' })).stderr, /unreachable or busy|failed/)

  // Read in the wrong folder, a listing would silently make an empty database: it refuses instead.
  for (const command of ['list-users', 'list-bans']) {
    const elsewhere = await cli([command], { defaultDatabaseUrl: `sqlite:${dir}/elsewhere/librechat-auth.db` })
    t.equal(elsewhere.code, 1, command)
    t.match(elsewhere.stderr, `there is no database at ${dir}/elsewhere/librechat-auth.db, and this command only reads, so none was created`)
    t.notOk(existsSync(`${dir}/elsewhere/librechat-auth.db`), `${command}: nothing created`)
  }
})

t.test('CLI-03: reset-link prints a single-use link; using it sets the password and ends every session', async t => {
  const storage = memoryStorage()
  const { build } = await import('../helpers/app.ts')
  const { app } = await build(t, { storage, domainClient: 'https://chat.example.test' })
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'Alice', email: 'alice@example.com', password: PASSWORD, confirm_password: PASSWORD } })).statusCode, 200)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'alice@example.com', password: PASSWORD } })
  const token = login.json().token as string

  t.equal((await cli(['reset-link', 'alice@example.com'], { storage })).code, 1, 'no DOMAIN_CLIENT: the link would point nowhere')
  t.equal((await cli(['reset-link', 'nobody@example.com'], { storage, env: { DOMAIN_CLIENT: 'https://chat.example.test' } })).code, 2)
  const printed = await cli(['reset-link', 'alice@example.com'], { storage, env: { DOMAIN_CLIENT: 'https://chat.example.test' } })
  t.equal(printed.code, 0, printed.stderr)
  const link = new URL(printed.stdout.trim())
  t.equal(link.origin, 'https://chat.example.test')
  t.equal(link.pathname, '/reset-password')
  const body = { token: link.searchParams.get('token'), userId: link.searchParams.get('userId'), password: 'the owner chose this one', confirm_password: 'the owner chose this one' }
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email: 'alice@example.com' } })).statusCode, 403, 'without a mailer users cannot ask for a link')
  const reset = await app.inject({ method: 'POST', url: '/api/auth/resetPassword', payload: body })
  t.equal(reset.statusCode, 200, reset.body)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/resetPassword', payload: body })).statusCode, 400, 'single use')
  t.equal((await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 401, 'sessions ended')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'alice@example.com', password: 'the owner chose this one' } })).statusCode, 200)
})
