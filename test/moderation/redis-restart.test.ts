// MOD-05: a ban survives `kill -9` of the server and a restart, in Redis (USE_REDIS) and in the default
// SQLite store. Drives only the example server as child processes (test/helpers/example.ts).
import { rm } from 'node:fs/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { dataDir, startExample, type RunningExample } from '../helpers/example.ts'
import { deleteUnder, keysUnder, randomPrefix } from '../helpers/redis.ts'
import { withService } from '../helpers/services.ts'


const BAN_DURATION = 60_000

const moderationEnv = { BAN_INTERVAL: '2', LOGIN_MAX: '2', LOGIN_WINDOW: '1', BAN_DURATION: String(BAN_DURATION) }

async function failedLogin (server: RunningExample): Promise<Response> {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'nobody@example.test', password: 'not the password at all' })
  })
  await response.clone().arrayBuffer()
  return response
}

/** A data folder removed, once its servers have stopped, when the test ends; `start` runs servers on it. */
async function dataFolder (t: Test): Promise<{ dir: string, start: (env: Record<string, string>) => Promise<RunningExample> }> {
  const dir = await dataDir()
  const servers: RunningExample[] = []
  t.teardown(async () => {
    await Promise.all(servers.map(server => server.stop()))
    await rm(dir, { recursive: true, force: true })
  })
  return {
    dir,
    start: async env => {
      const server = await startExample({ DATA_DIR: dir, ...env })
      servers.push(server)
      return server
    }
  }
}

/** Drives the client (127.0.0.1) into an IP ban with failed logins; returns when the ban was made. */
async function driveBan (t: Test, server: RunningExample): Promise<number> {
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await failedLogin(server)).status)
  const bannedAt = Date.now()
  t.same(statuses, [401, 401, 429, 429], 'LOGIN_MAX=2: two pass, two are refused; the second violation crosses BAN_INTERVAL=2')
  const refused = await failedLogin(server)
  t.equal(refused.status, 403, 'the address is banned')
  t.match(await refused.json(), { code: 'FST_LCAUTH_BANNED' })
  // The child's log reaches us through a pipe: give its last lines a moment to arrive.
  for (const deadline = Date.now() + 5000; !server.output().includes('"event":"ban.created"') && Date.now() < deadline;) await new Promise(resolve => setTimeout(resolve, 20))
  t.match(server.output(), /"event":"ban.created"/)
  return bannedAt
}

/** SIGKILL, as `kill -9`: no shutdown hook runs. */
async function killHard (t: Test, server: RunningExample): Promise<void> {
  process.kill(server.pid, 'SIGKILL')
  await server.stop()
  t.throws(() => process.kill(server.pid, 0), 'the process is gone')
}

async function stillBanned (t: Test, server: RunningExample, bannedAt: number): Promise<void> {
  const refused = await failedLogin(server)
  t.equal(refused.status, 403, 'still banned after kill -9 and a restart')
  t.match(await refused.json(), { code: 'FST_LCAUTH_BANNED' })
  const retryAfter = Number(refused.headers.get('retry-after'))
  const remaining = (bannedAt + BAN_DURATION - Date.now()) / 1000
  t.ok(Math.abs(retryAfter - remaining) <= 2, `Retry-After ${retryAfter} s is the remaining ${remaining.toFixed(1)} s within 2 s`)
  const health = await fetch(`${server.url}/health`)
  t.equal(health.status, 200, 'routes without moderation are served')
}

// The SQLite case above runs either way.
withService(t, 'REDIS_URI', 'redis restart', redisCase, { partOfFile: true })

function redisCase (url: string): void {
  t.test('Redis store: an IP ban survives kill -9 and a restart, and its key lives the remaining time', async t => {
    const admin = new Redis(url)
    const prefix = randomPrefix('restart')
    t.teardown(async () => {
      await deleteUnder(admin, prefix)
      await admin.quit()
    })
    const { start } = await dataFolder(t)
    const env = { USE_REDIS: 'true', REDIS_URI: url, REDIS_KEY_PREFIX: prefix, ...moderationEnv }

    const first = await start(env)
    const bannedAt = await driveBan(t, first)
    const banKeys = (await keysUnder(admin, prefix)).filter(key => key.startsWith(`${prefix}ban:`))
    t.same(banKeys, [`${prefix}ban:${JSON.stringify({ kind: 'ip', id: '127.0.0.1' })}`], 'one ban key, for the address')
    const stored = JSON.parse(await admin.get(banKeys[0] as string) ?? '{}') as { createdAt: number, expiresAt: number, reason: string }
    t.equal(stored.expiresAt - stored.createdAt, BAN_DURATION)
    t.equal(stored.reason, 'logins')

    await killHard(t, first)
    const second = await start(env)
    t.notMatch(second.output(), /moderation_store_unavailable/, 'the new process reached Redis')
    await stillBanned(t, second, bannedAt)
    const pttl = await admin.pttl(banKeys[0] as string)
    const remaining = stored.expiresAt - Date.now()
    t.ok(Math.abs(pttl - remaining) <= 2000, `PTTL ${pttl} equals the remaining ${remaining} ms within 2 s`)
    t.ok(pttl > BAN_DURATION - 30_000, 'and is far from over')
    t.equal((await keysUnder(admin, prefix)).filter(key => key.startsWith(`${prefix}ban:`)).length, 1)
  })
}

t.test('default SQLite store: an IP ban survives kill -9 and a restart', async t => {
  const { dir, start } = await dataFolder(t)
  const first = await start(moderationEnv)
  const bannedAt = await driveBan(t, first)
  await killHard(t, first)
  const second = await start(moderationEnv)
  t.ok(second.output().includes(`kept in ${dir}/dev-secrets.json`), 'the same data folder')
  await stillBanned(t, second, bannedAt)
})
