import t from 'tap'
import { type BanStore, memoryBanStore } from '../../index.ts'
import { build } from '../helpers/app.ts'
import { manualClock } from '../helpers/doubles.ts'
import { A, aliceFrom, B, C, errorOf, MINUTE, protectedRoute } from '../helpers/moderation.ts'

/**
 * MOD-02/MOD-04: `lcauth.authenticate` enforces address bans, so a banned address cannot keep using the
 * host routes that only authenticate. The check reads the local ban cache: no store call while it is warm.
 */

/** The memory ban store, its ban lookups counted. */
function countedStore (): { store: BanStore, finds: { count: number } } {
  const inner = memoryBanStore()
  const finds = { count: 0 }
  const store: BanStore = {
    ...inner,
    kind: inner.kind,
    find: (subject, now) => {
      finds.count++
      return inner.find(subject, now)
    }
  }
  return { store, finds }
}

t.test('authenticate refuses a banned address with 403 and Retry-After, from the ban cache', async t => {
  const clock = manualClock()
  const { store, finds } = countedStore()
  const { app, events } = await build(t, { now: clock.now, banStore: store, moderation: { banCacheTtl: 1000 } })
  const { token, userId } = await aliceFrom(app, B)
  await store.put({ subject: { kind: 'ip', id: A }, reason: 'logins', createdAt: clock.now(), expiresAt: new Date(clock.ms() + 10 * MINUTE) })
  events.all.length = 0

  const refused = await protectedRoute(app, token, A)
  t.equal(refused.statusCode, 403, 'a valid token from a banned address')
  t.equal(errorOf(refused).code, 'FST_LCAUTH_BANNED')
  t.equal(refused.headers['retry-after'], '600', 'with the seconds until the ban ends')
  t.match(events.take('moderation.refused'), [{ subject: { kind: 'ip', id: A }, ip: A }])
  const passed = await protectedRoute(app, token, C)
  t.equal(passed.statusCode, 200, 'the same token from an address that is not banned')
  t.match(passed.json(), { user: { id: userId } })

  // Both addresses are in the ban cache now: the next checks are answered without the store.
  finds.count = 0
  t.equal((await protectedRoute(app, token, A)).statusCode, 403)
  t.equal((await protectedRoute(app, token, C)).statusCode, 200)
  t.equal(finds.count, 0, 'no store call while the cache is warm')

  clock.advance(1001)
  t.equal((await protectedRoute(app, token, C)).statusCode, 200)
  t.equal(finds.count, 1, 'control: once the cached answer is stale, the store is asked')

  const denied = await app.inject({ method: 'GET', url: '/api/protected', remoteAddress: A })
  t.equal(denied.statusCode, 401, 'without a token the answer stays 401: the ban is checked for authenticated requests')
})

t.test('requireRole applies the same ban check; a dry run enforces nothing', async t => {
  const clock = manualClock()
  const store = memoryBanStore()
  await store.put({ subject: { kind: 'ip', id: A }, reason: 'logins', createdAt: clock.now(), expiresAt: new Date(clock.ms() + 10 * MINUTE) })
  const { app } = await build(t, { now: clock.now, banStore: store }, app => {
    // The first account registered is the admin.
    app.get('/api/users-only', { preHandler: app.lcauth.requireRole('ADMIN') }, async () => ({ ok: true }))
  })
  const { token } = await aliceFrom(app, B)
  const refused = await app.inject({ method: 'GET', url: '/api/users-only', remoteAddress: A, headers: { authorization: `Bearer ${token}` } })
  t.equal(refused.statusCode, 403)
  t.equal(errorOf(refused).code, 'FST_LCAUTH_BANNED')
  t.equal((await app.inject({ method: 'GET', url: '/api/users-only', remoteAddress: C, headers: { authorization: `Bearer ${token}` } })).statusCode, 200)

  const dry = await build(t, { now: clock.now, banStore: store, moderation: { dryRun: true } })
  const other = await aliceFrom(dry.app, B)
  t.equal((await protectedRoute(dry.app, other.token, A)).statusCode, 200, 'dry run: the stored ban is not enforced')
})
