/**
 * The benchmarks: every scenario against a server in its own process, measured in interleaved rounds
 * with its baseline, reported as medians and the median of the paired ratios (this machine's own
 * throughput swings by tens of percent, so only ratios measured side by side mean anything).
 *
 *   npm run bench                       # 5 rounds of 5 s per side; writes bench/results.md
 *   BENCH_ROUNDS=7 BENCH_SECONDS=8 npm run bench
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import autocannon from 'autocannon'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const BCRYPT_ROUNDS = process.env.BCRYPT_ROUNDS ?? '10'
const root = new URL('../', import.meta.url).pathname
const user = { name: 'Bench User', email: 'bench@example.com', password: 'correct horse battery staple', confirm_password: 'correct horse battery staple' }

interface Server { url: string, stop: () => Promise<void> }

async function freePort (): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  probe.close()
  return port
}

async function start (script: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `bench/servers/${script}.ts`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), BCRYPT_ROUNDS, NODE_ENV: 'production', ...passThrough(), ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  while (!out.includes('listening')) {
    if (child.exitCode !== null) throw new Error(`${script} exited`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => { child.kill('SIGTERM'); await once(child, 'exit') }
  }
}

/** The plugin's own variables given to the runner reach the benchmark servers (e.g. PASSWORD_HASH_CONCURRENCY). */
function passThrough (): Record<string, string> {
  return { ...UNLIMITED, ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^(PASSWORD_HASH_|SESSION_)/.test(e[0]) && e[1] !== undefined)) }
}

/**
 * One benchmark client is one IP: limits so high they never refuse, so that (a)–(f) measure the cost of
 * counting, not of refusing. (g) sets its own.
 */
const UNLIMITED: Record<string, string> = {
  LOGIN_MAX: '100000000',
  REFRESH_MAX: '100000000',
  REGISTER_MAX: '100000000',
  LIMIT_MESSAGE_IP: 'true',
  MESSAGE_IP_MAX: '100000000',
  LIMIT_MESSAGE_USER: 'true',
  MESSAGE_USER_MAX: '100000000',
  LIMIT_CONCURRENT_MESSAGES: 'true',
  CONCURRENT_MESSAGE_MAX: '10000'
}

/** Redis for the moderation rows, when the runner is given REDIS_URI; a fresh key prefix per run. */
function redisEnv (): Record<string, string> | null {
  const uri = process.env.REDIS_URI
  return uri === undefined || uri === '' ? null : { USE_REDIS: 'true', REDIS_URI: uri, REDIS_KEY_PREFIX: `lcauth-bench-${process.pid}:` }
}

/** Which scenarios to run: BENCH_ONLY=a,b runs only those. */
const only = new Set((process.env.BENCH_ONLY ?? 'a,b,c,e,f,g').split(','))

/** The storages refresh is measured on: memory, SQLite in a temp file, and PostgreSQL when DATABASE_URL names one. */
function storages (): Array<{ name: string, env: Record<string, string> }> {
  const list = [
    { name: 'memory', env: {} },
    { name: 'SQLite', env: { DATABASE_URL: `sqlite:${tmpdir()}/lcauth-bench-${process.pid}-${Date.now()}.db` } }
  ]
  const pg = process.env.DATABASE_URL
  if (pg !== undefined && pg.startsWith('postgres')) {
    list.push({ name: 'PostgreSQL', env: { DATABASE_URL: `${pg}${pg.includes('?') ? '&' : '?'}schema=lcauth_bench_${process.pid}` } })
  }
  return list
}

async function load (options: autocannon.Options): Promise<number> {
  const result = await autocannon({ duration: SECONDS, ...options })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${options.url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result.requests.average
}

/** Requests per second of a load whose every answer must have `status` (a refusal benchmark). */
async function loadExpecting (status: number, options: autocannon.Options): Promise<number> {
  const result = await autocannon({ duration: SECONDS, ...options })
  const answered = result[`${Math.floor(status / 100)}xx` as '4xx'] ?? 0
  if (result.errors > 0 || answered < result.requests.total * 0.99) throw new Error(`${options.url}: expected ${status}, got ${JSON.stringify(result.statusCodeStats)}`)
  return result.requests.average
}

async function json (url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body ?? {}) })
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Runs baseline and target alternately (ABBA order), returning per-round numbers and ratios. */
async function paired (measureBaseline: () => Promise<number>, measureTarget: () => Promise<number>): Promise<{ baseline: number[], target: number[], ratios: number[] }> {
  const baseline: number[] = []
  const target: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      baseline.push(await measureBaseline())
      target.push(await measureTarget())
    } else {
      target.push(await measureTarget())
      baseline.push(await measureBaseline())
    }
    process.stderr.write(`  round ${round + 1}: baseline ${baseline[round]?.toFixed(0)} req/s, target ${target[round]?.toFixed(0)} req/s\n`)
  }
  return { baseline, target, ratios: baseline.map((b, i) => (target[i] as number) / b) }
}

async function main (): Promise<void> {
  process.once('unhandledRejection', error => { process.stderr.write(`${String(error)}\n`); process.exit(1) })
  const bare = await start('bare')
  const bcryptOnly = await start('bcrypt-only')
  const plugin = await start('plugin')
  try {
    await json(`${plugin.url}/api/auth/register`, user)
    const login = await json(`${plugin.url}/api/auth/login`, { email: user.email, password: user.password })
    const { token } = await login.json() as { token: string }

    const none = { baseline: [NaN], target: [NaN], ratios: [NaN] }
    let a = none
    if (only.has('a')) {
      process.stderr.write('(a) protected route vs bare Fastify\n')
      const get = (url: string, headers: Record<string, string> = {}) => () => load({ url: `${url}/api/protected`, connections: 10, headers })
      await get(bare.url)(); await get(plugin.url, { authorization: `Bearer ${token}` })() // warm-up
      a = await paired(get(bare.url), get(plugin.url, { authorization: `Bearer ${token}` }))
    }

    if (only.has('b')) process.stderr.write('(b) login vs one bcrypt comparison; (d) event-loop delay during logins\n')
    const loginLoad = (url: string) => load({ url: `${url}/api/auth/login`, method: 'POST', connections: 4, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: user.password }) })
    const delays: number[] = []
    const b = !only.has('b')
      ? none
      : await paired(() => loginLoad(bcryptOnly.url), async () => {
        await fetch(`${plugin.url}/__bench/loop-delay?reset=true`)
        const rate = await loginLoad(plugin.url)
        delays.push(((await (await fetch(`${plugin.url}/__bench/loop-delay`)).json()) as { p99: number }).p99)
        return rate
      })

    const refreshRows: string[][] = []
    for (const storage of only.has('c') ? storages() : []) {
      process.stderr.write(`(c) refresh rotations per second on ${storage.name}\n`)
      const server = await start('plugin', storage.env)
      try {
        await json(`${server.url}/api/auth/register`, user)
        const rotations: number[] = []
        for (let round = 0; round < ROUNDS; round++) rotations.push(await refreshRate(server.url))
        refreshRows.push([`(c) refresh rotations, ${storage.name} storage (8 clients)`, '—', `${median(rotations).toFixed(0)} /s`, '—', '—'])
      } finally {
        await server.stop()
        if (storage.name === 'PostgreSQL') await dropBenchSchema()
      }
    }

    const loginRows: string[][] = []
    if (only.has('e')) {
      process.stderr.write('(e) login on SQLite vs one bcrypt comparison\n')
      const sqlite = await start('plugin', storages()[1]?.env)
      try {
        await json(`${sqlite.url}/api/auth/register`, user)
        const e = await paired(() => loginLoad(bcryptOnly.url), () => loginLoad(sqlite.url))
        loginRows.push([`(e) login on SQLite vs one bcrypt comparison (cost ${BCRYPT_ROUNDS})`, `${median(e.baseline).toFixed(1)} req/s`, `${median(e.target).toFixed(1)} req/s`, median(e.ratios).toFixed(2), '—'])
      } finally {
        await sqlite.stop()
      }
    }

    const moderationRows: string[][] = []
    const backends = [{ name: 'memory', env: {} }, ...(redisEnv() === null ? [] : [{ name: 'Redis', env: redisEnv() as Record<string, string> }])]
    for (const backend of only.has('f') ? backends : []) {
      process.stderr.write(`(f) moderated route vs the same route without moderation, bans and counters in ${backend.name}\n`)
      const server = await start('plugin', backend.env)
      try {
        await json(`${server.url}/api/auth/register`, user)
        const { token: own } = await (await json(`${server.url}/api/auth/login`, { email: user.email, password: user.password })).json() as { token: string }
        const headers = { authorization: `Bearer ${own}` }
        // The server's CPU time per request (plus Redis's, when it counts): on a shared, noisy machine this
        // says what the hooks cost even when throughput swings.
        const cpu: Record<string, number[]> = {}
        const get = (path: string) => async () => {
          const before = await cpuUs(server.url, backend.name === 'Redis')
          const result = await autocannon({ duration: SECONDS, url: `${server.url}${path}`, connections: 10, headers })
          if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`)
          ;(cpu[path] ??= []).push((await cpuUs(server.url, backend.name === 'Redis') - before) / result.requests.total)
          return result.requests.average
        }
        const variants = [
          { path: '/api/moderated', label: 'ban check and IP and user message limits', target: backend.name === 'memory' ? '≥ 0.85' : '≥ 0.70' },
          { path: '/api/moderated-concurrent', label: 'the same plus the in-flight count', target: '—' }
        ]
        for (const variant of variants) {
          await get('/api/protected')(); await get(variant.path)()
          const f = await paired(get('/api/protected'), get(variant.path))
          const cpuBase = median(cpu['/api/protected'] ?? [])
          const cpuTarget = median(cpu[variant.path] ?? [])
          cpu['/api/protected'] = []
          moderationRows.push([`(f) moderation hooks (${variant.label}), ${backend.name}, vs the same route without them`, `${median(f.baseline).toFixed(0)} req/s`, `${median(f.target).toFixed(0)} req/s`, median(f.ratios).toFixed(2), variant.target])
          moderationRows.push([`(f) the same in CPU per request${backend.name === 'Redis' ? ' (app and Redis)' : ''}: ratio of costs`, `${cpuBase.toFixed(1)} µs`, `${cpuTarget.toFixed(1)} µs`, (cpuBase / cpuTarget).toFixed(2), variant.target])
          process.stderr.write(`  per-round ratios ${f.ratios.map(r => r.toFixed(2)).join(', ')}; CPU per request ${cpuBase.toFixed(1)} µs vs ${cpuTarget.toFixed(1)} µs\n`)
        }
      } finally {
        await server.stop()
      }
    }
    for (const backend of only.has('g') ? backends : []) {
      process.stderr.write(`(g) a hammered login route: refusals per second, counters in ${backend.name}, vs bare Fastify\n`)
      // Banning off, so every answer is a limiter refusal (429) that is counted and scored.
      const server = await start('plugin', { ...backend.env, LOGIN_MAX: '5', BAN_VIOLATIONS: 'false' })
      try {
        const hammer = (): Promise<number> => loadExpecting(429, { url: `${server.url}/api/auth/login`, method: 'POST', connections: 10, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: 'wrong password here' }) })
        for (let i = 0; i < 6; i++) await json(`${server.url}/api/auth/login`, { email: user.email, password: 'wrong password here' })
        const g = await paired(() => load({ url: `${bare.url}/api/protected`, connections: 10 }), hammer)
        moderationRows.push([`(g) hammered login, every answer a 429 (counted and scored), ${backend.name}, vs bare Fastify GET`, `${median(g.baseline).toFixed(0)} req/s`, `${median(g.target).toFixed(0)} req/s`, median(g.ratios).toFixed(2), '—'])
      } finally {
        await server.stop()
      }
    }

    const rows = [
      ['(a) protected route (`lcauth.authenticate`) vs bare Fastify', `${median(a.baseline).toFixed(0)} req/s`, `${median(a.target).toFixed(0)} req/s`, median(a.ratios).toFixed(2), '≥ 0.85'],
      [`(b) login vs one bcrypt comparison (cost ${BCRYPT_ROUNDS})`, `${median(b.baseline).toFixed(1)} req/s`, `${median(b.target).toFixed(1)} req/s`, median(b.ratios).toFixed(2), '≥ 0.90'],
      ...refreshRows,
      ['(d) event-loop delay p99 during (b)', '—', `${median(delays).toFixed(1)} ms`, '—', '< 20 ms'],
      ...loginRows,
      ...moderationRows
    ].filter(row => !row.some(cell => cell.includes('NaN')))
    const table = [
      `Benchmarks: ${ROUNDS} interleaved rounds of ${SECONDS} s per side, medians; Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| Scenario | Baseline | librechat-auth | Median paired ratio | Target |',
      '|---|---|---|---|---|',
      ...rows.map(r => `| ${r.join(' | ')} |`),
      '',
      `Per-round ratios: (a) ${a.ratios.map(r => r.toFixed(2)).join(', ')}; (b) ${b.ratios.map(r => r.toFixed(2)).join(', ')}; (d) p99 ms ${delays.map(d => d.toFixed(1)).join(', ')}.`,
      ''
    ].join('\n')
    await writeFile(new URL('results.md', import.meta.url), table)
    process.stdout.write(table)
  } finally {
    await Promise.all([bare.stop(), bcryptOnly.stop(), plugin.stop()])
  }
}

/** CPU time used so far by the server at `url`, µs, plus Redis's own (INFO cpu) when `withRedis`. */
async function cpuUs (url: string, withRedis: boolean): Promise<number> {
  const app = ((await (await fetch(`${url}/__bench/cpu`)).json()) as { us: number }).us
  if (!withRedis) return app
  const { Redis } = await import('ioredis')
  const client = new Redis(process.env.REDIS_URI as string)
  try {
    const info = await client.info('cpu')
    const seconds = ['used_cpu_sys', 'used_cpu_user'].reduce((sum, field) => sum + Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0), 0)
    return app + seconds * 1e6
  } finally {
    client.disconnect()
  }
}

/** Leaves the PostgreSQL database as it found it. */
async function dropBenchSchema (): Promise<void> {
  const pg = await import('pg')
  const client = new pg.default.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS lcauth_bench_${process.pid} CASCADE`)
  await client.end()
}

/** 8 clients, each with its own session, refreshing back to back with the newest cookie for SECONDS. */
async function refreshRate (url: string): Promise<number> {
  const cookies: string[] = []
  for (let i = 0; i < 8; i++) {
    const login = await json(`${url}/api/auth/login`, { email: user.email, password: user.password })
    cookies.push((login.headers.get('set-cookie') ?? '').split(';')[0] as string)
  }
  let count = 0
  const until = Date.now() + SECONDS * 1000
  await Promise.all(cookies.map(async (initial) => {
    let cookie = initial
    while (Date.now() < until) {
      const response = await fetch(`${url}/api/auth/refresh`, { method: 'POST', headers: { cookie } })
      if (response.status !== 200) throw new Error(`refresh answered ${response.status}`)
      cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string
      await response.arrayBuffer()
      count++
    }
  }))
  return count / SECONDS
}

await main()
