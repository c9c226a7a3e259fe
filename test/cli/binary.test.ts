import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { dataDir, startExample } from '../helpers/example.ts'

// The real `librechat-auth` binary as npm installs it (dist/, built by `npm test` and by `prepack`),
// configured only through its environment.
const root = new URL('../../', import.meta.url).pathname
const bin = `${root}dist/lib/cli/bin.js`
const PASSWORD = 'a long enough passphrase'

function run (args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.on('exit', code => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })
}

t.before(() => {
  if (!existsSync(bin)) throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test')
})

t.test('the binary runs every command on a fresh SQLite file', async t => {
  const env = { DATABASE_URL: `sqlite:${await dataDir()}/cli.db` }
  t.equal((await run(['--help'], env)).code, 0)
  t.match((await run(['migrate'], env)).stdout, /sqlite database is up to date/)
  const created = await run(['create-user', 'alice@example.com', 'Alice Liddell'], env, `${PASSWORD}\n`)
  t.equal(created.code, 0, created.stderr)
  t.notMatch(created.stdout + created.stderr, PASSWORD)
  t.equal((await run(['create-user', 'alice@example.com'], env, `${PASSWORD}\n`)).code, 2)
  t.equal((await run(['create-user', 'bob@example.com'], env, '\n')).code, 3)
  t.equal((await run(['set-role', 'nobody@example.com', 'USER'], env)).code, 2)
  t.match(JSON.parse((await run(['list-users', '--json'], env)).stdout), [{ email: 'alice@example.com', role: 'ADMIN' }])
  for (const args of [['set-role', 'alice@example.com', 'USER'], ['disable-user', 'alice@example.com'], ['enable-user', 'alice@example.com'], ['purge']]) {
    t.equal((await run(args, env)).code, 0, args.join(' '))
  }
  t.equal((await run(['reset-password', 'alice@example.com'], env, 'another long passphrase\n')).code, 0)
  const deleted = await run(['delete-user', 'alice@example.com', '--yes'], env)
  t.equal(deleted.code, 0)
  t.equal((await run(['delete-user', 'alice@example.com', '--yes'], env)).code, 2)
  const bad = await run(['list-users'], { ...env, BCRYPT_ROUNDS: 'many' })
  t.equal(bad.code, 1)
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace')
})

t.test('CLI revocations reach a running server through the shared SQLite file within a second', async t => {
  const data = await dataDir()
  const server = await startExample({ DATA_DIR: data })
  t.teardown(server.stop)
  const env = { DATABASE_URL: `sqlite:${data}/librechat-auth.db` }
  t.equal((await run(['create-user', 'alice@example.com', '--verified'], env, `${PASSWORD}\n`)).code, 0, 'the CLI writes while the server has the file open')
  const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'alice@example.com', password: PASSWORD }) })
  t.equal(login.status, 200)
  const { token } = await login.json() as { token: string }
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
  const protectedStatus = async (): Promise<number> => (await fetch(`${server.url}/api/demo/protected`, { headers: { authorization: `Bearer ${token}` } })).status
  t.equal(await protectedStatus(), 200)

  t.equal((await run(['disable-user', 'alice@example.com'], env)).code, 0)
  const disabledAt = Date.now()
  while (await protectedStatus() === 200) {
    if (Date.now() - disabledAt > 3000) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const delay = Date.now() - disabledAt
  t.comment(`the server refused the disabled user's token ${delay} ms after the CLI finished`)
  t.ok(delay <= 1000, `refused within a second (${delay} ms)`)
  t.equal((await fetch(`${server.url}/api/auth/refresh`, { method: 'POST', headers: { cookie } })).status, 401)
  const again = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'alice@example.com', password: PASSWORD }) })
  t.equal(again.status, 403)
  t.match(await again.json(), { code: 'FST_LCAUTH_ACCOUNT_DISABLED' })
})

t.test('a PostgreSQL smoke run', { skip: process.env.DATABASE_URL?.startsWith('postgres') === true ? false : 'DATABASE_URL does not name PostgreSQL' }, async t => {
  const base = process.env.DATABASE_URL as string
  const schema = `lcauth_cli_${process.pid}`
  const env = { DATABASE_URL: `${base}${base.includes('?') ? '&' : '?'}schema=${schema}` }
  t.teardown(async () => {
    const pg = await import('pg')
    const client = new pg.default.Client({ connectionString: base })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  })
  t.equal((await run(['create-user', 'alice@example.com'], env, `${PASSWORD}\n`)).code, 0)
  t.match(JSON.parse((await run(['list-users', '--json'], env)).stdout), [{ email: 'alice@example.com' }])
  t.equal((await run(['delete-user', 'alice@example.com', '--yes'], env)).code, 0)
})

t.test('npm exposes the binary under the package name', async t => {
  const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as { bin: Record<string, string> }
  t.same(pkg.bin, { 'librechat-auth': './dist/lib/cli/bin.js' })
})

t.test('without DATABASE_URL the binary keeps its data in data/librechat-auth.db under the working directory', async t => {
  const dir = await dataDir()
  const child = spawn(process.execPath, [bin, 'create-user', 'alice@example.com'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'ignore', 'pipe'] })
  child.stdin.end(`${PASSWORD}\n`)
  const [code] = await new Promise<[number | null]>(resolve => child.on('exit', c => resolve([c])))
  t.equal(code, 0)
  t.ok(existsSync(`${dir}/data/librechat-auth.db`))
})
