import t from 'tap'
import { memoryBanStore, type BanStore } from '../../index.ts'
import { LIMIT_KEY_PREFIX } from '../../plugins/http/moderation-guard.ts'
import { alice, build, refreshCookieOf } from '../helpers/app.ts'
import { countingHasher, manualClock } from '../helpers/doubles.ts'
import {
  A, aliceFrom, B, bearer, C, changePassword, comparableHeaders, deleteAccount, errorOf, type Limits, limits, loginFrom,
  type Moderation, MINUTE, protectedRoute, SECOND, session, WRONG
} from '../helpers/moderation.ts'

/**
 * MOD-03, MOD-04, LOG-01, LOG-04, JWT-06, RT-07: violation scores turning into bans on the plugin's own
 * routes (default memory ban store), their expiry on the injected clock, soft bans, dry run, and the
 * rule that only a proven bearer, never a body, gets a user scored.
 */

/** The memory ban store, its limiter hits counted per limiter. */
function countedStore (): { store: BanStore, hits: Map<string, number> } {
  const inner = memoryBanStore()
  const hits = new Map<string, number>()
  const store: BanStore = {
    ...inner,
    kind: inner.kind,
    hit: (key, windowMs, now) => {
      const limiter = key.slice(LIMIT_KEY_PREFIX.length).split(':')[0] ?? ''
      if (key.startsWith(LIMIT_KEY_PREFIX)) hits.set(limiter, (hits.get(limiter) ?? 0) + 1)
      return inner.hit(key, windowMs, now)
    }
  }
  return { store, hits }
}

t.test('MOD-03: anonymous brute force on login bans the address, never the account', async t => {
  const clock = manualClock()
  const { hasher, counts } = countingHasher()
  const { store, hits } = countedStore()
  const { app, events } = await build(t, {
    hasher,
    now: clock.now,
    banStore: store,
    moderation: { banInterval: 3, banDuration: 10 * MINUTE, limits: limits({ login: { max: 2, windowMs: MINUTE } }) }
  })
  const { token, userId } = await aliceFrom(app, B)
  events.all.length = 0
  hits.clear()

  const statuses: number[] = []
  for (let n = 0; n < 5; n++) statuses.push((await loginFrom(app, A)).statusCode)
  t.same(statuses, [401, 401, 429, 429, 429], 'two answered, then the limiter')
  t.same(events.take('moderation.violation').map(v => [v.type, v.subject.kind, v.total]), [['logins', 'ip', 1], ['logins', 'ip', 2], ['logins', 'ip', 3]],
    'each refused attempt scored against the address only')
  const bans = events.take('ban.created')
  t.match(bans, [{ subject: { kind: 'ip', id: A }, reason: 'logins', by: 'moderation', dryRun: false, expiresAt: new Date(clock.ms() + 10 * MINUTE) }],
    'crossing banInterval bans the address')
  t.equal(bans.length, 1)
  t.same((await app.lcauth.moderation.list()).map(b => b.subject), [{ kind: 'ip', id: A }])
  t.equal(hits.get('login'), 5)

  t.equal(events.take('moderation.limited').length, 3)
  t.equal(events.take('login.failure').length, 2, 'control: the answered attempts ran the login handler')
  events.all.length = 0

  // Banned: refused before anything is counted, scored or hashed, whatever the body says.
  clock.advance(4 * MINUTE)
  counts.verify = 0
  counts.hash = 0
  for (const password of [WRONG, alice.password]) {
    const banned = await loginFrom(app, A, alice.email, password)
    t.equal(banned.statusCode, 403)
    t.same(errorOf(banned), {
      statusCode: 403,
      code: 'FST_LCAUTH_BANNED',
      error: 'Forbidden',
      message: 'Access is temporarily suspended because of repeated violations. Please try again in 6 minutes.'
    }, 'a generic body that names no account')
    t.equal(banned.headers['retry-after'], '360', 'Retry-After: the seconds left of the ban')
    t.equal(banned.headers['set-cookie'], undefined)
  }
  const unparsable = await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: A, headers: { 'content-type': 'application/json' }, payload: '{"not json' })
  t.equal(unparsable.statusCode, 403, 'the ban check runs before the body is parsed')
  t.same(counts, { hash: 0, verify: 0 }, 'no hash call while banned')
  t.equal(hits.get('login'), 5, 'banned requests are not counted')
  t.same(events.take('moderation.violation'), [], 'nor scored')
  t.same(events.take('moderation.limited'), [])
  t.same(events.take('login.failure'), [], 'the login handler never ran')
  t.match(events.take('moderation.refused'), [{ subject: { kind: 'ip', id: A } }, { subject: { kind: 'ip', id: A } }, { subject: { kind: 'ip', id: A } }])

  // The ban covers the address on every guarded route, the ban-check-only ones included.
  const me = await app.inject({ method: 'GET', url: '/api/user', remoteAddress: A, headers: bearer(token) })
  t.equal(me.statusCode, 403, 'GET /api/user from the banned address')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: A })).statusCode, 403)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/config', remoteAddress: A })).statusCode, 200, 'the public config is not guarded')

  // The account that was targeted is untouched (MOD-04, LOG-04).
  t.same((await app.lcauth.moderation.list()).filter(b => b.subject.kind === 'user'), [], 'no user ban')
  t.same(events.take('session.revoked'), [], 'no session of the target ended')
  t.equal((await protectedRoute(app, token)).statusCode, 200, 'the owner\'s token still works')
  const owner = await loginFrom(app, C, alice.email, alice.password)
  t.equal(owner.statusCode, 200, 'the owner logs in from another address')
  t.match(events.take('login.success'), [{ userId }])
})

t.test('MOD-03: a ban ends after banDuration on the injected clock (the ban cache included)', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, {
    now: clock.now,
    moderation: { banInterval: 2, banDuration: 2 * MINUTE, limits: limits({ login: { max: 1, windowMs: MINUTE } }) }
  })
  await aliceFrom(app, B)
  t.same([(await loginFrom(app, A)).statusCode, (await loginFrom(app, A)).statusCode, (await loginFrom(app, A)).statusCode], [401, 429, 429])
  t.equal(events.take('ban.created').length, 1)

  // Looked up (and cached) just before the end: the cache never outlives the ban.
  clock.advance(2 * MINUTE - 500)
  const last = await loginFrom(app, A, alice.email, alice.password)
  t.equal(last.statusCode, 403)
  t.equal(last.headers['retry-after'], '1', 'half a second left rounds up to 1')
  clock.advance(500)
  const back = await loginFrom(app, A, alice.email, alice.password)
  t.equal(back.statusCode, 200, 'let back in the moment the ban ends')
  t.same(await app.lcauth.moderation.list(), [])

  // The score is kept (24 h): the next banInterval more violations ban again.
  t.equal((await loginFrom(app, A)).statusCode, 429, 'the login window (1 min) started with the successful login')
  t.equal(events.take('ban.created').length, 0, 'score 3: not yet a multiple of 2')
  t.equal((await loginFrom(app, A)).statusCode, 429)
  t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: A } }], 'score 4: banned again')
  t.equal((await loginFrom(app, A)).statusCode, 403)
})

t.test('MOD-03/MOD-04: authenticated abuse bans the user and the address, ends every session, and stays secret', async t => {
  for (const [label, limiter, abuse, type] of [
    ['password change', 'passwordChange', changePassword, 'password_change'],
    ['account deletion', 'accountDeletion', deleteAccount, 'account_deletion']
  ] as const) {
    t.test(label, async t => {
      const clock = manualClock()
      const { hasher, counts } = countingHasher()
      const own: Limits = { [limiter]: { max: 2, windowMs: MINUTE } }
      const { app, events } = await build(t, { hasher, now: clock.now, moderation: { banInterval: 3, banDuration: 30 * MINUTE, limits: limits(own) } })
      const { token, refresh, userId } = await aliceFrom(app, B)
      const second = await session(app, C)
      events.all.length = 0

      const statuses: number[] = []
      for (let n = 0; n < 5; n++) statuses.push((await abuse(app, A, token)).statusCode)
      t.same(statuses, [401, 401, 429, 429, 429], 'wrong password twice, then the limiter')
      const violations = events.take('moderation.violation')
      t.same(violations.map(v => [v.type, v.subject.kind, v.total]), [
        [type, 'ip', 1], [type, 'user', 1], [type, 'ip', 2], [type, 'user', 2], [type, 'ip', 3], [type, 'user', 3]
      ], 'scored against the address and the bearer\'s user')
      t.match(violations.filter(v => v.subject.kind === 'user'), [{ subject: { id: userId } }])
      t.match(events.take('ban.created'), [
        { subject: { kind: 'ip', id: A }, reason: type, by: 'moderation', dryRun: false },
        { subject: { kind: 'user', id: userId }, reason: type, by: 'moderation', dryRun: false }
      ], 'both banned')
      const revoked = events.take('session.revoked')
      t.same(revoked.map(e => e.reason), ['ban', 'ban'], 'every session of the user ended, reason ban')
      t.same(new Set(revoked.map(e => e.userId)), new Set([userId]))
      t.same(await app.lcauth.storage.sessions.listLiveByUser(userId, clock.now()), [])

      // JWT-06: the access tokens die at once, from any address.
      for (const access of [token, second.token]) {
        const response = await protectedRoute(app, access, C)
        t.equal(response.statusCode, 401, 'an access token of the banned user is refused at once')
        t.equal(errorOf(response).code, 'FST_LCAUTH_UNAUTHORIZED')
      }
      // RT-07: no refresh, from an address that is not banned.
      for (const cookie of [refresh, second.refresh]) {
        const response = await app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: C, cookies: { refreshToken: cookie } })
        t.equal(response.statusCode, 401, 'refresh with the banned user\'s cookie fails')
        t.equal(refreshCookieOf(response), null, 'no new refresh token')
      }
      t.equal(events.take('refresh.rotated').length, 0)

      // LOG-01/MOD-04: from a clean address, a wrong password is the plain 401 of an unknown email;
      // the ban shows only after the right password.
      counts.verify = 0
      const unknown = await loginFrom(app, C, 'nobody@example.test')
      const wrong = await loginFrom(app, C, alice.email)
      t.equal(wrong.statusCode, 401)
      t.same([wrong.statusCode, wrong.body], [unknown.statusCode, unknown.body], 'wrong password of a banned user = unknown email')
      t.strictSame(comparableHeaders(wrong), comparableHeaders(unknown), 'same headers (no Retry-After)')
      t.equal(counts.verify, 2, 'both answered after a comparison')
      clock.advance(10 * MINUTE)
      const right = await loginFrom(app, C, alice.email, alice.password)
      t.equal(right.statusCode, 403, 'the right password: 403')
      t.equal(errorOf(right).code, 'FST_LCAUTH_BANNED')
      t.equal(right.headers['retry-after'], String(20 * 60), 'Retry-After: the rest of the user ban')
      t.equal(right.headers['set-cookie'], undefined, 'no session')
      t.match(events.take('login.failure'), [{ reason: 'unknown_user' }, { reason: 'bad_password', userId }, { reason: 'banned', userId }])
      t.equal(events.take('login.success').length, 0)
      t.same(await app.lcauth.storage.sessions.listLiveByUser(userId, clock.now()), [], 'still no session')

      // The address is banned too, for anything.
      const fromA = await loginFrom(app, A, 'someone.else@example.test')
      t.equal(fromA.statusCode, 403)
      t.equal(fromA.headers['retry-after'], String(20 * 60))

      // Once the ban is over the user is back.
      clock.advance(20 * MINUTE)
      t.equal((await loginFrom(app, C, alice.email, alice.password)).statusCode, 200, 'after banDuration the user logs in again')
    })
  }
})

t.test('MOD-04: a body naming a user never gets that user scored or banned', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, {
    now: clock.now,
    moderation: { banInterval: 2, banDuration: 10 * MINUTE, limits: limits({ login: { max: 1, windowMs: MINUTE }, resetPassword: { max: 1, windowMs: MINUTE } }) }
  })
  const { token, userId } = await aliceFrom(app, B)
  events.all.length = 0

  // Twelve addresses, each over its limits with alice's email in every body.
  for (let i = 1; i <= 12; i++) {
    const ip = `198.18.0.${i}`
    for (let n = 0; n < 4; n++) {
      await loginFrom(app, ip)
      await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', remoteAddress: ip, payload: { email: alice.email } })
    }
  }
  const violations = events.take('moderation.violation')
  t.ok(violations.length >= 24, `many violations (${violations.length})`)
  t.same(violations.filter(v => v.subject.kind !== 'ip'), [], 'every violation held against an address')
  const bans = events.take('ban.created')
  t.equal(bans.length, 12, 'every attacking address banned')
  t.same(bans.filter(b => b.subject.kind !== 'ip'), [], 'no user ban')
  t.same(events.take('session.revoked'), [], 'no session ended')
  t.equal((await protectedRoute(app, token)).statusCode, 200, 'alice\'s token still works')
  t.equal((await loginFrom(app, C, alice.email, alice.password)).statusCode, 200, 'alice logs in from her own address')
  t.equal(await app.lcauth.moderation.list().then(list => list.some(b => b.subject.id === userId)), false)
})

t.test('MOD-04: an expired or revoked bearer never gets its user scored', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: 1_000_000, limits: limits({ passwordChange: { max: 1, windowMs: MINUTE } }) } })
  const { token } = await aliceFrom(app, B)
  const revoked = await session(app, B)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', remoteAddress: B, headers: bearer(revoked.token), cookies: { refreshToken: revoked.refresh } })).statusCode, 200)
  events.all.length = 0

  const forged = `${token.slice(0, -4)}AAAA`
  for (const [ip, access] of [['198.18.1.1', revoked.token], ['198.18.1.2', forged]] as const) {
    await changePassword(app, ip, access)
    t.equal((await changePassword(app, ip, access)).statusCode, 429)
  }
  clock.advance(16 * MINUTE) // past the access token lifetime (15 min)
  await changePassword(app, '198.18.1.3', token)
  t.equal((await changePassword(app, '198.18.1.3', token)).statusCode, 429)
  const violations = events.take('moderation.violation')
  t.equal(violations.length, 3)
  t.same(violations.filter(v => v.subject.kind === 'user'), [], 'a revoked, forged or expired token proves nobody')
  t.match(events.take('moderation.limited'), [{ userId: null }, { userId: null }, { userId: null }])
})

t.test('soft ban (banDuration 0): the abuser\'s sessions end, nothing is recorded, nothing is refused afterwards', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: 2, banDuration: 0, limits: limits({ passwordChange: { max: 1, windowMs: MINUTE } }) } })
  const { token, refresh, userId } = await aliceFrom(app, B)
  events.all.length = 0

  t.same([(await changePassword(app, A, token)).statusCode, (await changePassword(app, A, token)).statusCode, (await changePassword(app, A, token)).statusCode], [401, 429, 429])
  t.match(events.take('ban.created'), [
    { subject: { kind: 'ip', id: A }, expiresAt: null, dryRun: false },
    { subject: { kind: 'user', id: userId }, expiresAt: null, dryRun: false }
  ], 'ban.created with no end: a soft ban')
  t.match(events.take('session.revoked'), [{ userId, reason: 'ban' }], 'the session ended')
  t.same(await app.lcauth.moderation.list(), [], 'no ban record')
  t.equal((await protectedRoute(app, token)).statusCode, 401, 'the access token died')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: B, cookies: { refreshToken: refresh } })).statusCode, 401, 'the refresh token too')

  const again = await loginFrom(app, A, alice.email, alice.password)
  t.equal(again.statusCode, 200, 'the user logs in again, from the same address')
  t.same(events.take('moderation.refused'), [], 'nothing refused as banned')
  t.equal((await changePassword(app, A, again.json<{ token: string }>().token)).statusCode, 429, 'the limiter still counts')
})

t.test('dryRun: everything is recorded and emitted, nobody is refused, banned or signed out', async t => {
  const clock = manualClock()
  const { hasher, counts } = countingHasher()
  const { app, events } = await build(t, {
    hasher,
    now: clock.now,
    moderation: { dryRun: true, banInterval: 2, banDuration: 10 * MINUTE, limits: limits({ login: { max: 1, windowMs: MINUTE }, passwordChange: { max: 1, windowMs: MINUTE } }) }
  })
  const { token, userId } = await aliceFrom(app, B)
  events.all.length = 0
  counts.verify = 0

  const statuses: number[] = []
  for (let n = 0; n < 5; n++) statuses.push((await loginFrom(app, A)).statusCode)
  statuses.push((await loginFrom(app, A, alice.email, alice.password)).statusCode)
  t.same(statuses, [401, 401, 401, 401, 401, 200], 'no 429, no 403: every attempt answered')
  t.equal(counts.verify, 6, 'every attempt checked its password')
  const limited = events.take('moderation.limited')
  t.equal(limited.length, 5)
  t.ok(limited.every(e => e.dryRun), 'moderation.limited says dryRun')
  t.same(events.take('moderation.violation').map(v => v.total), [1, 2, 3, 4, 5], 'violations still scored')
  t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: A }, dryRun: true }, { subject: { kind: 'ip', id: A }, dryRun: true }], 'what would have been banned')

  const changes: number[] = []
  for (let n = 0; n < 4; n++) changes.push((await changePassword(app, C, token)).statusCode)
  t.same(changes, [401, 401, 401, 401], 'the abusive bearer is not refused either')
  t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: C }, dryRun: true }, { subject: { kind: 'user', id: userId }, dryRun: true }])
  t.same(await app.lcauth.moderation.list(), [], 'nothing stored')
  t.same(events.take('session.revoked'), [], 'no session ended')
  t.equal((await protectedRoute(app, token)).statusCode, 200, 'the token still works')
  t.same(events.take('moderation.refused'), [])
  t.equal((await loginFrom(app, A, alice.email, alice.password)).headers['retry-after'], undefined)
})

t.test('violation TTL: a score is forgotten violationTtl after its last violation', async t => {
  const clock = manualClock()
  const moderation: Moderation = { banInterval: 3, banDuration: 10 * MINUTE, violationTtl: 10 * SECOND, limits: limits({ login: { max: 1, windowMs: SECOND } }) }
  const { app, events } = await build(t, { now: clock.now, moderation })
  /** One answered attempt and one refused: one violation. Each call starts a new one-second window. */
  const violation = async (): Promise<number> => {
    clock.advance(SECOND)
    t.equal((await loginFrom(app, A)).statusCode, 401)
    const refused = await loginFrom(app, A)
    t.equal(refused.statusCode, 429)
    return events.take('moderation.violation')[0]?.total ?? NaN
  }

  t.equal(await violation(), 1)
  clock.advance(6 * SECOND)
  t.equal(await violation(), 2, 'within the TTL of the last violation: counted on')
  clock.advance(6 * SECOND)
  // 14 s after the first violation, 7 s after the last: the TTL slides with each violation.
  t.equal(await violation(), 3, 'the TTL runs from the last violation, not the first')
  t.match(events.take('ban.created'), [{ subject: { kind: 'ip', id: A } }], 'control: three in a row ban')

  const other = '198.51.100.99'
  const violationFrom = async (ip: string): Promise<number> => {
    clock.advance(SECOND)
    await loginFrom(app, ip)
    t.equal((await loginFrom(app, ip)).statusCode, 429)
    return events.take('moderation.violation')[0]?.total ?? NaN
  }
  t.equal(await violationFrom(other), 1)
  t.equal(await violationFrom(other), 2)
  clock.advance(10 * SECOND)
  t.equal(await violationFrom(other), 1, 'after the TTL the count starts over')
  t.equal(await violationFrom(other), 2)
  t.same(events.take('ban.created'), [], 'no ban where one would have come')
})
