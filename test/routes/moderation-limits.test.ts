import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { memoryBanStore } from '../../index.ts'
import type { LimiterName } from '../../lib/moderation/limits.ts'
import { alice, build, login, register } from '../helpers/app.ts'
import { countingHasher, manualClock } from '../helpers/doubles.ts'
import { A, aliceFrom, B, C, changePassword, deleteAccount, errorOf, type Limits, limits, loginFrom, type Moderation, MINUTE, NEW_PASSWORD, SECOND, WRONG } from '../helpers/moderation.ts'

/**
 * MOD-08, RT-08, MOD-01/02 (input side): the plugin's own routes with the default memory ban store.
 * Limits, windows and violation types; no bans here (banInterval is out of reach unless a test says).
 */

const NO_BANS = 1_000_000

/** Answered by the route itself: no server error, and neither of the moderation refusals. */
const answered = (response: LightMyRequestResponse): boolean =>
  response.statusCode < 500 && !['FST_LCAUTH_RATE_LIMITED', 'FST_LCAUTH_BANNED'].includes(response.statusCode >= 400 ? errorOf(response).code : '')

type Send = (app: FastifyInstance, ip: string, token: string) => Promise<LightMyRequestResponse>

/** Every limited route of the plugin, the limiter that guards it and the violation type a hit scores. */
const ROUTES: Array<{ limiter: LimiterName, type: string, authenticated: boolean, send: Send }> = [
  {
    limiter: 'login', type: 'logins', authenticated: false,
    send: (app, ip) => loginFrom(app, ip)
  },
  {
    limiter: 'register', type: 'registrations', authenticated: false,
    send: (app, ip) => app.inject({ method: 'POST', url: '/api/auth/register', remoteAddress: ip, payload: alice })
  },
  {
    limiter: 'refresh', type: 'refresh', authenticated: false,
    send: (app, ip) => app.inject({ method: 'POST', url: '/api/auth/refresh', remoteAddress: ip })
  },
  {
    limiter: 'passwordChange', type: 'password_change', authenticated: true,
    send: changePassword
  },
  {
    limiter: 'accountDeletion', type: 'account_deletion', authenticated: true,
    send: deleteAccount
  },
  {
    limiter: 'resetPassword', type: 'reset_password_limit', authenticated: false,
    send: (app, ip) => app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', remoteAddress: ip, payload: { email: alice.email } })
  },
  {
    limiter: 'resetPasswordSubmission', type: 'reset_password_limit', authenticated: false,
    send: (app, ip) => app.inject({ method: 'POST', url: '/api/auth/resetPassword', remoteAddress: ip, payload: { token: 'x'.repeat(43), password: NEW_PASSWORD, confirm_password: NEW_PASSWORD } })
  },
  {
    limiter: 'verifyEmailSubmission', type: 'verify_email_limit', authenticated: false,
    send: (app, ip) => app.inject({ method: 'POST', url: '/api/user/verify', remoteAddress: ip, payload: { email: alice.email, token: 'x'.repeat(43) } })
  },
  {
    limiter: 'verifyEmail', type: 'verify_email_limit', authenticated: false,
    send: (app, ip) => app.inject({ method: 'POST', url: '/api/user/verify/resend', remoteAddress: ip, payload: { email: alice.email } })
  }
]

t.test('MOD-08: every limited route answers 429 after its own max, scores its own violation type, and has its own budget', async t => {
  const clock = manualClock()
  const { hasher, counts } = countingHasher()
  // Each route a different max (1, 2 or 3) and a different window (1, 2, ... 9 minutes).
  const own: Limits = Object.fromEntries(ROUTES.map((route, i) => [route.limiter, { max: 1 + (i % 3), windowMs: (i + 1) * MINUTE }]))
  const { app, events } = await build(t, { hasher, now: clock.now, moderation: { banInterval: NO_BANS, limits: limits(own) } })
  const { token, userId } = await aliceFrom(app, B)
  events.all.length = 0

  // One route after the other from the same address: a shared budget would show as an early 429.
  for (const [i, route] of ROUTES.entries()) {
    const { max, windowMs } = own[route.limiter] as { max: number, windowMs: number }
    for (let n = 1; n <= max; n++) {
      const response = await route.send(app, A, token)
      t.ok(answered(response), `${route.limiter} #${n}: under the max, answered by the route (${response.statusCode})`)
    }
    t.same(events.take('moderation.limited'), [], `${route.limiter}: nothing limited up to max=${max}`)
    t.same(events.take('moderation.violation'), [], `${route.limiter}: nothing scored up to the max`)

    const before = { ...counts }
    const over = await route.send(app, A, token)
    t.equal(over.statusCode, 429, `${route.limiter}: request max+1 gets 429`)
    t.same(errorOf(over), {
      statusCode: 429,
      code: 'FST_LCAUTH_RATE_LIMITED',
      error: 'Too Many Requests',
      message: `Too many requests. Please try again in ${(i + 1) * 60 < 120 ? `${(i + 1) * 60} seconds` : `${i + 1} minutes`}.`
    }, `${route.limiter}: the generic 429 body, the wait in words`)
    t.equal(over.headers['retry-after'], String(windowMs / SECOND), `${route.limiter}: Retry-After is the rest of its own window`)
    t.same(counts, before, `${route.limiter}: refused before any password is hashed or compared`)
    t.match(events.take('moderation.limited'), [{ limiter: route.limiter, dryRun: false, userId: route.authenticated ? userId : null, ip: A }])
    const violations = events.take('moderation.violation')
    const expected = [{ type: route.type, subject: { kind: 'ip', id: A }, score: 1 }]
    if (route.authenticated) expected.push({ type: route.type, subject: { kind: 'user', id: userId }, score: 1 })
    t.match(violations, expected, `${route.limiter}: scored as ${route.type}${route.authenticated ? ' against the address and the bearer\'s user' : ' against the address only'}`)
    t.equal(violations.length, expected.length)
  }
  t.same(events.take('ban.created'), [], 'banInterval out of reach: no ban')

  // Another address still has every route's whole budget.
  for (const route of ROUTES) {
    t.ok(answered(await route.send(app, C, token)), `${route.limiter}: another address is not limited`)
  }
})

t.test('MOD-08: a limiter window runs on the injected clock; requests over the max keep being refused until it ends', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: NO_BANS, limits: limits({ login: { max: 2, windowMs: MINUTE } }) } })
  const attempt = (): Promise<LightMyRequestResponse> => login(app, alice.email, WRONG)
  t.equal((await attempt()).statusCode, 401)
  t.equal((await attempt()).statusCode, 401)
  const first = await attempt()
  t.equal(first.statusCode, 429)
  t.equal(first.headers['retry-after'], '60')
  clock.advance(30 * SECOND)
  const later = await attempt()
  t.equal(later.statusCode, 429, 'still refused half-way through the window')
  t.equal(later.headers['retry-after'], '30', 'Retry-After counts down with the window')
  clock.advance(30 * SECOND)
  t.equal((await attempt()).statusCode, 401, 'a new window: answered again')
  t.equal((await attempt()).statusCode, 401)
  t.equal((await attempt()).statusCode, 429, 'the new window has the same max')
  t.same(events.take('moderation.violation').map(v => v.total), [1, 2, 3], 'every refused request scored once')
})

t.test('MOD-08: the submission limiters fall back to their request limiter\'s settings, but count on their own', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, {
    now: clock.now,
    moderation: {
      banInterval: NO_BANS,
      limits: limits({
        resetPassword: { max: 3, windowMs: 2 * MINUTE },
        verifyEmail: { max: 2, windowMs: 3 * MINUTE },
        // Set explicitly: its own setting wins over verifyEmail's.
        verifyEmailSubmission: { max: 1, windowMs: 4 * MINUTE }
      }, ['resetPasswordSubmission'])
    }
  })
  const route = (limiter: LimiterName): Send => (ROUTES.find(r => r.limiter === limiter) as { send: Send }).send
  const run = async (limiter: LimiterName, allowed: number, retryAfter: string): Promise<void> => {
    for (let n = 1; n <= allowed; n++) t.ok(answered(await route(limiter)(app, A, '')), `${limiter} #${n} allowed`)
    const over = await route(limiter)(app, A, '')
    t.equal(over.statusCode, 429, `${limiter}: #${allowed + 1} refused`)
    t.equal(over.headers['retry-after'], retryAfter, `${limiter}: its window`)
    t.match(events.take('moderation.limited'), [{ limiter }])
  }
  // The request limiters first, to their end: the submissions still have their whole budget after.
  await run('resetPassword', 3, '120')
  await run('resetPasswordSubmission', 3, '120')
  await run('verifyEmail', 2, '180')
  await run('verifyEmailSubmission', 1, '240')
  t.same(events.take('moderation.violation').map(v => v.type), ['reset_password_limit', 'reset_password_limit', 'verify_email_limit', 'verify_email_limit'])
})

t.test('banViolations false: limits still refuse and scores still count, but no ban is made or enforced', async t => {
  const clock = manualClock()
  const store = memoryBanStore()
  // A ban already in the store: enforcement is what is off, not only its creation.
  await store.put({ subject: { kind: 'ip', id: C }, reason: 'logins', createdAt: clock.now(), expiresAt: new Date(clock.ms() + 10 * MINUTE) })
  const moderation: Moderation = { banViolations: false, banInterval: 2, banDuration: 10 * MINUTE, limits: limits({ login: { max: 1, windowMs: MINUTE } }) }
  const { app, events } = await build(t, { now: clock.now, banStore: store, moderation })
  await aliceFrom(app, B)
  events.all.length = 0

  const statuses: number[] = []
  for (let n = 0; n < 6; n++) statuses.push((await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: A, payload: { email: alice.email, password: WRONG } })).statusCode)
  t.same(statuses, [401, 429, 429, 429, 429, 429], 'the limiter refuses as always, never a 403')
  t.same(events.take('moderation.violation').map(v => v.total), [1, 2, 3, 4, 5], 'scores keep counting past banInterval')
  t.same(events.take('ban.created'), [], 'no ban')
  t.equal(events.take('session.revoked').length, 0)
  t.same((await app.lcauth.moderation.list()).map(b => b.subject), [{ kind: 'ip', id: C }], 'nothing added to the store')

  const fromBanned = await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: C, payload: { email: alice.email, password: alice.password } })
  t.equal(fromBanned.statusCode, 200, 'the stored ban is not checked')
  t.equal(events.take('moderation.refused').length, 0)

  // Control: the same store with banning on refuses that address.
  const control = await build(t, { now: clock.now, banStore: store, moderation: { ...moderation, banViolations: true } })
  const refused = await control.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: C, payload: { email: alice.email, password: alice.password } })
  t.equal(refused.statusCode, 403, 'control: with banViolations on, the stored ban is enforced')
  t.equal(errorOf(refused).code, 'FST_LCAUTH_BANNED')
})

t.test('MOD-01/MOD-02: weird client addresses never give a 500, and keys are what the rules say', async t => {
  t.test('X-Forwarded-For is ignored without trustProxy: one socket is one bucket', async t => {
    const { app, events } = await build(t, { moderation: { banInterval: NO_BANS, limits: limits({ login: { max: 3, windowMs: MINUTE } }) } })
    const weird: Array<string | string[]> = [
      '1.2.3.4', 'not-an-ip', '', ' , , ,', '1.2.3.4, garbage', '::ffff:1.2.3.4', '[::1]', 'unknown', '203.0.113.9:443',
      '2001:db8::1%eth0', 'fe80::1%', '1.2.3.4'.repeat(2000), ['1.2.3.4', '5.6.7.8'], '%00\u0000', '999.999.999.999', '::::::'
    ]
    const statuses: number[] = []
    for (const value of weird) {
      const response = await app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: A, headers: { 'x-forwarded-for': value }, payload: { email: alice.email, password: WRONG } })
      statuses.push(response.statusCode)
    }
    t.same(statuses, [401, 401, 401, ...Array<number>(weird.length - 3).fill(429)], 'one bucket whatever the header says; never a 500')
    const subjects = new Set(events.take('moderation.violation').map(v => JSON.stringify(v.subject)))
    t.same([...subjects], [JSON.stringify({ kind: 'ip', id: A })], 'always scored against the socket peer')
  })

  t.test('with trusted proxies, odd header values stop the walk and never fail', async t => {
    const { app, events } = await build(t, { trustProxy: ['loopback', '10.0.0.0/8'], moderation: { banInterval: NO_BANS, limits: limits({ login: { max: 1, windowMs: MINUTE } }) } })
    const cases: Array<[string, string | string[], string]> = [
      ['127.0.0.1', '203.0.113.50', '203.0.113.50'],
      ['127.0.0.1', 'garbage, 203.0.113.51', '203.0.113.51'],
      ['127.0.0.1', '203.0.113.52, garbage', '127.0.0.1'],
      ['127.0.0.1', '198.51.100.1, 10.1.2.3', '198.51.100.1'],
      ['127.0.0.1', '2001:DB8:AA:BB:1:2:3:4', '2001:db8:aa:bb::/64'],
      ['127.0.0.1', '::ffff:203.0.113.53', '203.0.113.53'],
      ['10.9.9.9', ['198.51.100.2', '198.51.100.3'], '198.51.100.3'],
      ['::1', '', '::1'],
      ['203.0.113.60', '198.51.100.4', '203.0.113.60'],
      ['::ffff:127.0.0.1', '198.51.100.5', '198.51.100.5']
    ]
    for (const [peer, xff, key] of cases) {
      const send = (): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: peer, headers: { 'x-forwarded-for': xff }, payload: { email: alice.email, password: WRONG } })
      const first = await send()
      t.equal(first.statusCode, 401, `${peer} / ${JSON.stringify(xff)}: answered`)
      const second = await send()
      t.equal(second.statusCode, 429, `${peer} / ${JSON.stringify(xff)}: its own bucket, limited on the second try`)
      const violation = events.take('moderation.violation')
      t.match(violation, [{ subject: { kind: 'ip', id: key === '::1' ? '::/64' : key } }], `${peer} / ${JSON.stringify(xff)}: keyed as ${key}`)
    }
  })

  t.test('IPv6 peers are counted by /64, IPv4-mapped peers as IPv4, and odd peers do not fail', async t => {
    const { app, events } = await build(t, { moderation: { banInterval: NO_BANS, limits: limits({ login: { max: 2, windowMs: MINUTE } }) } })
    const send = (ip: string): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { email: alice.email, password: WRONG } })
    t.equal((await send('2001:DB8:1:2::5')).statusCode, 401)
    t.equal((await send('2001:db8:1:2:ffff:ffff:ffff:ffff')).statusCode, 401)
    t.equal((await send('2001:0db8:0001:0002:0000:0000:0000:0009')).statusCode, 429, 'the third address of the same /64 is over the max')
    t.match(events.take('moderation.violation'), [{ subject: { kind: 'ip', id: '2001:db8:1:2::/64' } }])
    t.equal((await send('2001:db8:1:3::5')).statusCode, 401, 'the next /64 is another client')

    t.equal((await send('::ffff:203.0.113.7')).statusCode, 401)
    t.equal((await send('203.0.113.7')).statusCode, 401)
    t.equal((await send('::FFFF:cb00:7107')).statusCode, 429, 'mapped and plain IPv4 share a bucket')
    t.match(events.take('moderation.violation'), [{ subject: { kind: 'ip', id: '203.0.113.7' } }])

    for (const odd of ['fe80::1%eth0', 'not-an-address', '', '::', '0.0.0.0']) {
      const response = await send(odd)
      t.ok(response.statusCode === 401 || response.statusCode === 429, `peer ${JSON.stringify(odd)}: ${response.statusCode}, no 500`)
    }
  })
})

t.test('limits count every request, successful ones too (register)', async t => {
  const { app, events } = await build(t, { moderation: { banInterval: NO_BANS, limits: limits({ register: { max: 2, windowMs: MINUTE } }) } })
  t.equal((await register(app, { ...alice, email: 'one@example.test' })).statusCode, 200)
  t.equal((await register(app, { ...alice, email: 'two@example.test' })).statusCode, 200)
  const over = await register(app, { ...alice, email: 'three@example.test' })
  t.equal(over.statusCode, 429)
  t.equal(await app.lcauth.storage.users.findByEmail('three@example.test'), null, 'the limited registration created nothing')
  t.match(events.take('moderation.violation'), [{ type: 'registrations' }])
})

t.test('MOD-03 under concurrency: parallel over-limit requests lose no score and ban once per banInterval crossed', async t => {
  const clock = manualClock()
  const { app, events } = await build(t, { now: clock.now, moderation: { banInterval: 4, banDuration: MINUTE, limits: limits({ login: { max: 1, windowMs: MINUTE } }) } })
  const responses = await Promise.all(Array.from({ length: 12 }, () => login(app, alice.email, WRONG)))
  const statuses = responses.map(r => r.statusCode)
  t.ok(statuses.every(s => s === 401 || s === 429 || s === 403), `only 401, 429 and 403 (${statuses.join(' ')})`)
  t.equal(statuses.filter(s => s === 401).length, 1, 'exactly max requests answered')
  const totals = events.take('moderation.violation').map(v => v.total).sort((x, y) => x - y)
  t.same(totals, Array.from({ length: totals.length }, (_, i) => i + 1), 'every violation counted once, none lost')
  t.equal(totals.length, statuses.filter(s => s === 429).length, 'one violation per 429')
  t.equal(events.take('ban.created').length, Math.floor(totals.length / 4), 'one ban per multiple of banInterval crossed')
  t.equal((await login(app, alice.email, WRONG)).statusCode, 403, 'and the address is banned')
})
