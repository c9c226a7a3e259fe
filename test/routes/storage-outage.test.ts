import t from 'tap'
import { errors, memoryStorage, type Storage } from '../../index.ts'
import { alice, build, refreshCookieOf, registerAndLogin } from '../helpers/app.ts'

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
