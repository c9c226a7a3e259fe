import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import t from 'tap'
import { errors, memoryStorage, type Storage } from '../../index.ts'
import { alice, build, refreshCookieOf, registerAndLogin } from '../helpers/app.ts'
import { withService } from '../helpers/services.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'

/**
 * A storage that can be cut off: while `down`, every call fails the way the SQL adapter reports an
 * unreachable database (FST_LCAUTH_STORAGE_UNAVAILABLE; the adapter tests prove that mapping against
 * real PostgreSQL and SQLite). Here the point is what the routes make of it.
 */
function switchable (inner: Storage): { storage: Storage, setDown: (down: boolean) => void } {
  let down = false
  const guard = <T extends object>(part: T): T => new Proxy(part, {
    get (target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (down) return Promise.reject(new errors.FST_LCAUTH_STORAGE_UNAVAILABLE())
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
  })
  const storage: Storage = { ...inner, users: guard(inner.users), identities: guard(inner.identities), sessions: guard(inner.sessions), oneTimeTokens: guard(inner.oneTimeTokens) }
  return { storage, setDown: d => { down = d } }
}

t.test('an unreachable database: 503 with a code, refresh fails closed, access tokens keep working', async t => {
  const { storage, setDown } = switchable(memoryStorage())
  const { app } = await build(t, { storage })
  const { token, refresh } = await registerAndLogin(app)

  setDown(true)
  const loginDown = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } })
  t.equal(loginDown.statusCode, 503)
  t.same(loginDown.json(), { statusCode: 503, code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', error: 'Service Unavailable', message: 'The service is temporarily unavailable. Please try again shortly.' })
  const refreshDown = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(refreshDown.statusCode, 503, 'no token without a recorded rotation')
  t.equal(refreshDown.headers['set-cookie'], undefined, 'the cookie is kept for the retry')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', payload: { ...alice, email: 'b@example.test' } })).statusCode, 503)
  t.equal((await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 200, 'authenticate needs no database')

  setDown(false)
  const back = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  t.equal(back.statusCode, 200, 'the same cookie works once the database is back')
  t.ok(refreshCookieOf(back))
})

/** How long a request may take against a database that does not answer, with `databaseTimeout: 1000`. */
const TIMEOUT_MS = 1000
const BOUND_MS = 2 * TIMEOUT_MS + 500

withService(t, 'DATABASE_URL', 'postgres', url => {
  const schemaUrl = (base: string, schema: string): string => {
    const next = new URL(base)
    next.searchParams.set('schema', schema)
    return next.toString()
  }
  const dropSchema = async (schema: string): Promise<void> => {
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(`drop schema if exists "${schema}" cascade`)
    await admin.end()
  }
  const timed = async <T>(work: () => Promise<T>): Promise<{ result: T, ms: number }> => {
    const started = performance.now()
    const result = await work()
    return { result, ms: performance.now() - started }
  }

  t.test('PostgreSQL that stops answering: requests answer 503 within databaseTimeout, not after 15 s', async t => {
    const upstream = new URL(url)
    const proxy = await tcpProxy(upstream.hostname, Number(upstream.port === '' ? 5432 : upstream.port))
    const schema = `lcauth_t_${randomBytes(6).toString('hex')}`
    t.teardown(async () => { await proxy.close(); await dropSchema(schema) })
    const proxied = new URL(url)
    proxied.host = `127.0.0.1:${proxy.port}`
    const { app } = await build(t, { storage: { url: schemaUrl(proxied.toString(), schema) }, databaseTimeout: TIMEOUT_MS })
    const { token, refresh } = await registerAndLogin(app)

    proxy.cut('blackhole') // open connections and new ones alike: nothing comes back
    const refreshDown = await timed(() => app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } }))
    t.comment(`refresh against a silent database answered ${refreshDown.result.statusCode} after ${refreshDown.ms.toFixed(0)} ms`)
    t.equal(refreshDown.result.statusCode, 503)
    t.equal(refreshDown.result.json<{ code: string }>().code, 'FST_LCAUTH_STORAGE_UNAVAILABLE')
    t.ok(refreshDown.ms < BOUND_MS, `within ${BOUND_MS} ms`)
    const loginDown = await timed(() => app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: alice.email, password: alice.password } }))
    t.comment(`login against a silent database answered ${loginDown.result.statusCode} after ${loginDown.ms.toFixed(0)} ms`)
    t.equal(loginDown.result.statusCode, 503)
    t.ok(loginDown.ms < BOUND_MS, `within ${BOUND_MS} ms`)
    t.equal((await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 200, 'authenticate needs no database')

    proxy.cut('refuse') // the server is down: refused at once
    const refused = await timed(() => app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } }))
    t.equal(refused.result.statusCode, 503)
    t.ok(refused.ms < BOUND_MS)

    proxy.restore()
    t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })).statusCode, 200, 'the same cookie works once the database is back')
  })

  t.test('a refresh whose update waits on a row lock is cancelled by the server: 503, then the same cookie refreshes, no reuse', async t => {
    const schema = `lcauth_t_${randomBytes(6).toString('hex')}`
    t.teardown(() => dropSchema(schema))
    const { app, events } = await build(t, { storage: { url: schemaUrl(url, schema) }, databaseTimeout: TIMEOUT_MS })
    const { refresh } = await registerAndLogin(app)
    const sessionId = refresh.split('.')[0]

    const locker = new pg.Client({ connectionString: url })
    await locker.connect()
    t.teardown(() => locker.end())
    await locker.query('begin')
    await locker.query(`select 1 from "${schema}".lcauth_sessions where id = $1 for update`, [sessionId])
    const blocked = await timed(() => app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } }))
    t.comment(`a refresh stuck behind a row lock answered ${blocked.result.statusCode} after ${blocked.ms.toFixed(0)} ms`)
    t.equal(blocked.result.statusCode, 503)
    t.equal(blocked.result.json<{ code: string }>().code, 'FST_LCAUTH_STORAGE_UNAVAILABLE')
    t.equal(blocked.result.headers['set-cookie'], undefined, 'the cookie is kept for the retry')
    t.ok(blocked.ms < BOUND_MS, `within ${BOUND_MS} ms`)
    // Hold the lock past the client's own give-up point: a statement left running would now commit.
    await new Promise(resolve => setTimeout(resolve, TIMEOUT_MS))
    await locker.query('commit')
    const { rows } = await locker.query(`select refresh_token_hash, rotated_at from "${schema}".lcauth_sessions where id = $1`, [sessionId])
    t.equal(rows[0]?.rotated_at, null, 'the cancelled rotation never happened')

    const retry = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
    t.equal(retry.statusCode, 200, 'the old cookie refreshes once the lock is gone')
    t.ok(refreshCookieOf(retry))
    t.same(events.take('refresh.reuse_detected'), [], 'no reuse detected')
  })
}, { partOfFile: true })
