import { copyFile, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual, parseEnv } from 'node:util'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { envVariables, optionsFromEnv } from '../../index.ts'
import { resolveOptions } from '../../lib/options/resolve.ts'
import { dataDir, startExample } from '../helpers/example.ts'

// ./.env as the example reads it (Node's process.loadEnvFile), and .env.example as shipped.

const root = new URL('../../', import.meta.url).pathname
const exampleOnly = ['PORT', 'HOST', 'LOG_LEVEL', 'DATA_DIR', 'EMAIL_DEV_INBOX']

t.test('./.env is read, the environment wins over it, and the example says so', async t => {
  const cwd = await mkdtemp(join(tmpdir(), 'lcauth-dotenv-'))
  await writeFile(join(cwd, '.env'), 'APP_TITLE="Dotenv Chat"\nALLOW_REGISTRATION=false\n# a comment\nMIN_PASSWORD_LENGTH=10\n')
  const server = await startExample({ DATA_DIR: await dataDir(), MIN_PASSWORD_LENGTH: '12' }, { cwd })
  t.teardown(server.stop)
  t.match(await (await fetch(`${server.url}/api/auth/config`)).json(), { registrationEnabled: false, minPasswordLength: 12 })
  t.match(server.output(), /loaded \.env \(variables set in the environment win over it\)/)
  for (let i = 0; i < 50 && !server.output().includes('example.ready'); i++) await new Promise(resolve => setTimeout(resolve, 20))
  t.match(server.output(), /"event":"example.ready"[^\n]*"envFile":".env"/)
})

t.test('.env.example, copied to .env as it is, starts the example with every default', async t => {
  const parsed = parseEnv(readFileSync(join(root, '.env.example'), 'utf8'))
  t.same(Object.keys(envVariables).filter(name => !(name in parsed)), [], 'every variable of the plugin is listed')
  t.same(Object.keys(parsed).filter(name => !(name in envVariables) && !exampleOnly.includes(name)), [], 'and no unknown one')
  for (const name of ['JWT_SECRET', 'JWT_REFRESH_SECRET', 'EMAIL_PASSWORD', 'OPENID_CLIENT_SECRET', 'OPENID_SESSION_SECRET', 'GOOGLE_CLIENT_SECRET']) t.equal(parsed[name], '', `${name} is blank`)
  const required = { jwtSecret: 'a'.repeat(40), jwtRefreshSecret: 'b'.repeat(40), domainServer: 'http://127.0.0.1:3080' }
  t.ok(isDeepStrictEqual(resolveOptions({ ...optionsFromEnv(parsed), ...required }, false), resolveOptions(required, false)), 'the values shown are the defaults')

  const cwd = await mkdtemp(join(tmpdir(), 'lcauth-dotenv-'))
  await copyFile(join(root, '.env.example'), join(cwd, '.env'))
  const server = await startExample({ DATA_DIR: await dataDir() }, { cwd })
  t.teardown(server.stop)
  t.match(await (await fetch(`${server.url}/api/auth/config`)).json(), { registrationEnabled: true, emailLoginEnabled: true, socialLoginEnabled: false, emailEnabled: true, minPasswordLength: 8 })
  t.equal((await fetch(`${server.url}/dev/mail.json`)).status, 200, 'the development inbox, as without a .env')
})

t.test('the startup summary: one structured line when the output is not a terminal', async t => {
  const server = await startExample({ DATA_DIR: await dataDir(), ALLOW_REGISTRATION: 'false' })
  t.teardown(server.stop)
  for (let i = 0; i < 50 && !server.output().includes('example.ready'); i++) await new Promise(resolve => setTimeout(resolve, 20))
  const line = server.output().split('\n').find(l => l.includes('"event":"example.ready"')) as string
  const ready = JSON.parse(line) as Record<string, unknown>
  t.match(ready, {
    msg: `ready: open ${server.url}`,
    url: server.url,
    storage: /^SQLite, .*librechat-auth\.db$/,
    mail: `development inbox at ${server.url}/dev/mail (nothing is sent)`,
    signIn: ['email and password', 'registration closed (ALLOW_REGISTRATION=false)', 'no social login (ALLOW_SOCIAL_LOGIN=false)'],
    envFile: null
  })
  t.match(ready.warnings, [/JWT_SECRET or JWT_REFRESH_SECRET is not set/, /sessionCookieSecure is false/])
  for (const l of server.output().trim().split('\n')) t.doesNotThrow(() => JSON.parse(l), 'JSON lines only')
})
