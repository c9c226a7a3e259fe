import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

// The package as a host app gets it from the registry: `npm pack`, then a fresh project installs the
// tarball and fastify, and nothing else. `npm test` builds dist/ before tap runs; nothing here
// rebuilds it (scripts are ignored), since other test files read dist/ at the same time.
const root = new URL('../../', import.meta.url).pathname
const DRIVERS = ['better-sqlite3', 'pg', 'ioredis', 'nodemailer']
const SECRETS = { jwtSecret: 'consumer-access-secret-0123456789abcdef-0123', jwtRefreshSecret: 'consumer-refresh-secret-0123456789abcdef-012' }

// The children see the environment without tap's hooks (NODE_OPTIONS) or its coverage recording,
// nor the services CI points the suite at: the consumer's CLI must fall back to its own SQLite default.
const { NODE_OPTIONS: _hooks, DATABASE_URL: _database, REDIS_URI: _redis, USE_REDIS: _useRedis, ...inherited } = process.env
const env = { ...inherited, _TAPJS_PROCESSINFO_COVERAGE_: '0', npm_config_ignore_scripts: 'false' }
const run = async (command: string, args: string[], cwd: string, extra: Record<string, string> = {}): Promise<{ stdout: string, stderr: string }> =>
  promisify(execFile)(command, args, { cwd, env: { ...env, ...extra }, maxBuffer: 16 * 1024 * 1024 })

/**
 * A small ESM host app in the consumer project: registers the plugin with `options`, reads the config,
 * then signs up, logs in and refreshes with the cookie it got (@fastify/cookie as the host's tree has
 * it); prints what happened as JSON.
 */
const hostApp = (options: string): string => `
import Fastify from 'fastify'
import authPlugin from 'librechat-auth'
const app = Fastify()
try {
  await app.register(authPlugin, { ...${JSON.stringify({ ...SECRETS, domainServer: 'http://127.0.0.1:3080', production: false, allowRegistration: true, bcryptRounds: 4 })}, ...${options} })
  await app.ready()
  const config = await app.inject({ method: 'GET', url: '/api/auth/config' })
  const account = { email: 'alice@example.com', password: 'a long enough passphrase' }
  const register = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'Alice', ...account, confirm_password: account.password } })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: account })
  const cookie = login.cookies.find(c => c.name === 'refreshToken')
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { refreshToken: cookie?.value ?? '' } })
  console.log(JSON.stringify({ status: config.statusCode, body: config.json(), flow: [register.statusCode, login.statusCode, cookie?.httpOnly, refresh.statusCode] }))
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }))
} finally {
  await app.close()
}
`

t.before(() => {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test')
})

t.test('packed and installed in a fresh project with fastify alone', async t => {
  const started = Date.now()
  const dir = await mkdtemp(join(tmpdir(), 'lcauth-consumer-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }

  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root)
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }]
  const app = join(dir, 'app')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }))
  // --offline cannot work: npm 11 resolves new dependencies from full packuments, and the cache holds
  // abbreviated ones for most; --prefer-offline takes what the cache has and asks the registry for the rest.
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename), 'fastify'], app)
  t.comment(`packed and installed in ${Date.now() - started} ms`)
  // The build runs at `npm pack` (prepack), not at install: npm would list a `prepare` among the install
  // scripts a tarball brings along, for the host to review.
  t.notMatch(install.stderr, /librechat-auth@/, 'installing the tarball runs no script of ours')

  for (const driver of DRIVERS) t.notOk(existsSync(join(app, 'node_modules', driver)), `${driver} is not installed`)
  t.ok(existsSync(join(app, 'node_modules', 'librechat-auth', 'dist', 'index.js')))

  await writeFile(join(app, 'memory.mjs'), hostApp('{}'))
  const memory = JSON.parse((await run('node', ['memory.mjs'], app)).stdout) as { status: number, body: Record<string, unknown> }
  t.match(memory, { status: 200, body: { emailLoginEnabled: true, serverDomain: 'http://127.0.0.1:3080' } }, 'the plugin answers on memory storage')
  t.match(memory, { flow: [200, 200, true, 200] }, 'sign-up, login and a refresh with the HttpOnly cookie work')

  await writeFile(join(app, 'sqlite.mjs'), hostApp("{ storage: { url: 'sqlite:x.db' } }"))
  t.same(JSON.parse((await run('node', ['sqlite.mjs'], app)).stdout), {
    code: 'FST_LCAUTH_CONFIG_INVALID',
    message: 'Invalid librechat-auth configuration: storage.url needs the better-sqlite3 package: npm install better-sqlite3'
  })
  t.notOk(existsSync(join(app, 'x.db')), 'no database file is created')

  t.equal((await run('npx', ['librechat-auth', '--version'], app)).stdout, `${version}\n`)
  const cli = await run('npx', ['librechat-auth', 'migrate'], app).then(() => null, (error: { code: number, stderr: string }) => error)
  t.match(cli, { code: 1, stderr: 'DATABASE_URL needs the better-sqlite3 package: npm install better-sqlite3' })
  t.notOk(existsSync(join(app, 'data')), 'the CLI created no data directory')
  t.comment(`the whole consumer check took ${Date.now() - started} ms`)
})

t.test('publint and attw (esm-only) find nothing wrong with the packed package', async t => {
  // `npm run lint:package` as a developer runs it; ignore-scripts keeps its `npm pack` runs from
  // rebuilding dist/ (through prepack) under the other test files' feet.
  const { stdout } = await run('npm', ['run', 'lint:package'], root, { npm_config_ignore_scripts: 'true' })
  t.match(stdout, /All good!/, 'publint')
  t.match(stdout, /"librechat-auth\/sqlite"/, 'attw checked the subpath exports')
})
