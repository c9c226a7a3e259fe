import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { unbuiltBetterSqlite3 } from '../helpers/unbuilt-driver.ts'

// A host app whose project lacks the drivers, for real: each child process registers resolution hooks
// (test/helpers/driver-hooks.mjs) under which better-sqlite3, pg, ioredis and nodemailer resolve as if
// they were not installed (Node's own ERR_MODULE_NOT_FOUND), or better-sqlite3 resolves to a copy
// without its native build. Then it registers the plugin, and runs the CLI, as a user would.

const here = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href)
const DRIVERS = ['better-sqlite3', 'pg', 'ioredis', 'nodemailer']

interface Outcome { status?: number, code?: string, message?: string, cause?: string }
interface CliOutcome { exit: number, stdout: string, stderr: string }

/** Runs `body` in a child process with the hooks registered with `data`; `body` sets `results`, printed as JSON. */
async function child (data: unknown, file: string, body: string): Promise<Record<string, unknown>> {
  const script = `
    import { register as hooks } from 'node:module'
    import { PassThrough } from 'node:stream'
    hooks(${here('../helpers/driver-hooks.mjs')}, { data: ${JSON.stringify(data)} })
    const { default: Fastify } = await import('fastify')
    const { default: authPlugin, memoryStorage, optionsFromEnv } = await import(${here('../../index.ts')})
    const { baseOptions } = await import(${here('../helpers/app.ts')})
    const { runCli } = await import(${here('../../lib/cli/run.ts')})
    const file = ${JSON.stringify(file)}
    /** Registers the plugin with these options: the answer of GET /api/auth/config, or the error. */
    async function register (options) {
      const app = Fastify()
      try {
        await app.register(authPlugin, { ...baseOptions, ...options })
        await app.ready()
        return { status: (await app.inject({ method: 'GET', url: '/api/auth/config' })).statusCode }
      } catch (error) {
        return { code: error.code, message: error.message, cause: error.cause?.code ?? error.cause?.message }
      } finally {
        await app.close()
      }
    }
    async function cli (argv, env, options) {
      const [stdout, stderr, stdin] = [new PassThrough(), new PassThrough(), new PassThrough()]
      const out = { stdout: '', stderr: '' }
      stdout.on('data', chunk => { out.stdout += chunk })
      stderr.on('data', chunk => { out.stderr += chunk })
      stdin.end()
      const exit = await runCli(argv, { stdin, stdout, stderr, env }, options)
      return { exit, ...out }
    }
    const results = {}
    ${body}
    console.log(JSON.stringify(results))`
  // tsx loads the TypeScript source; tap's coverage of the children is switched off (see sqlite.test.ts).
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  })
  return JSON.parse(stdout) as Record<string, unknown>
}

t.test('without the drivers installed: the plugin runs on memory; each choice needing one names the option and the package', async t => {
  const file = join(t.testdir({}), 'auth.db')
  const results = await child({ missing: DRIVERS }, file, `
    results.memory = await register({})
    results.sqlite = await register({ storage: { url: 'sqlite:' + file } })
    results.postgres = await register({ storage: { url: 'postgres://postgres@127.0.0.1:5432/test' } })
    results.env = await register(optionsFromEnv({ DATABASE_URL: 'sqlite:' + file }))
    results.redis = await register({ banStore: { url: 'redis://127.0.0.1:6379' } })
    results.envRedis = await register(optionsFromEnv({ USE_REDIS: 'true', REDIS_URI: 'redis://127.0.0.1:6379' }))
    results.smtp = await register({ mailer: { host: '127.0.0.1', port: 2525, from: 'noreply@example.com' } })
    results.cli = await cli(['migrate'], { DATABASE_URL: 'sqlite:' + file })
    results.cliRedis = await cli(['list-bans'], { USE_REDIS: 'true', REDIS_URI: 'redis://127.0.0.1:6379' }, { storage: memoryStorage() })
    results.fileCreated = (await import('node:fs')).existsSync(file)`)

  t.same(results.memory, { status: 200 }, 'memory storage needs no driver')
  const refusal = (option: string, driver: string): Outcome => ({
    code: 'FST_LCAUTH_CONFIG_INVALID',
    message: `Invalid librechat-auth configuration: ${option} needs the ${driver} package: npm install ${driver}`,
    cause: 'ERR_MODULE_NOT_FOUND'
  })
  t.same(results.sqlite, refusal('storage.url', 'better-sqlite3'))
  t.same(results.env, refusal('storage.url', 'better-sqlite3'), 'DATABASE_URL through optionsFromEnv')
  t.same(results.postgres, refusal('storage.url', 'pg'))
  t.same(results.redis, refusal('banStore.url', 'ioredis'))
  t.same(results.envRedis, refusal('banStore.url', 'ioredis'), 'USE_REDIS and REDIS_URI through optionsFromEnv')
  t.same(results.smtp, refusal('mailer', 'nodemailer'))
  t.same(results.cli, {
    exit: 1,
    stdout: '',
    stderr: `librechat-auth: database sqlite:${file}\nlibrechat-auth migrate: Invalid librechat-auth configuration: DATABASE_URL needs the better-sqlite3 package: npm install better-sqlite3\n`
  } satisfies CliOutcome)
  t.same(results.cliRedis, {
    exit: 1,
    stdout: '',
    stderr: 'librechat-auth list-bans: Invalid librechat-auth configuration: REDIS_URI needs the ioredis package: npm install ioredis\n'
  } satisfies CliOutcome)
  t.equal(results.fileCreated, false, 'no database file is created')
})

t.test('better-sqlite3 installed without its native build: the plugin and the CLI say to rebuild it', async t => {
  const dir = t.testdir({})
  const copy = unbuiltBetterSqlite3(dir, 'none')
  const results = await child({ redirect: { 'better-sqlite3': pathToFileURL(join(copy, 'lib', 'index.js')).href } }, join(dir, 'auth.db'), `
    results.sqlite = await register({ storage: { url: 'sqlite:' + file } })
    results.cli = await cli(['migrate'], { DATABASE_URL: 'sqlite:' + file })`)
  const problem = 'needs the better-sqlite3 package, whose native addon did not load (not built, or built for another Node.js version or platform): npm rebuild better-sqlite3'
  t.match(results.sqlite, { code: 'FST_LCAUTH_CONFIG_INVALID', message: `Invalid librechat-auth configuration: storage.url ${problem}`, cause: /^Could not locate the bindings file/ })
  t.same(results.cli, { exit: 1, stdout: '', stderr: `librechat-auth: database sqlite:${join(dir, 'auth.db')}\nlibrechat-auth migrate: Invalid librechat-auth configuration: DATABASE_URL ${problem}\n` })
})
