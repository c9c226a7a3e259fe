import { performance } from 'node:perf_hooks'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { AuthEventEmitter, type AuthEvents, memoryBanStore, memoryMailer } from '../../index.ts'
import type { RequestContext } from '../../lib/context.ts'
import { MAX_ACCOUNT_DELAY, loginThrottle } from '../../lib/moderation/login-throttle.ts'
import { alice, build, relaxedModeration } from '../helpers/app.ts'
import { countingHasher, manualClock } from '../helpers/doubles.ts'
import { errorOf, MINUTE, type Moderation } from '../helpers/moderation.ts'

const HOUR = 60 * MINUTE

/** Per-IP limits out of the way; the per-account throttle as given (LibreChat's default: 10 per 15 minutes). */
function accountThrottle (loginAccount = { max: 10, windowMs: 15 * MINUTE }): Moderation {
  return { ...relaxedModeration, limits: { ...relaxedModeration.limits, loginAccount } }
}

/** The n-th of many distinct clients: IPv4 addresses first, then one address in each of many IPv6 /64s. */
function client (n: number): string {
  return n < 100 ? `198.51.100.${n + 1}` : `2001:db8:${(n - 99).toString(16)}::7`
}

function login (app: FastifyInstance, ip: string, password = 'wrong password here', email = alice.email): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress: ip })
}

async function registerAlice (app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/auth/register', payload: alice, remoteAddress: '192.0.2.1' })
  if (response.statusCode !== 200) throw new Error(`register failed: ${response.body}`)
  const user = await app.lcauth.storage.users.findByEmail(alice.email)
  if (user === null) throw new Error('no user')
  return user.id
}

t.test('LOG-03: failures from many IPs on one account engage the account-wide delay after 10', async t => {
  const { hasher, counts, reset } = countingHasher()
  const { app, events } = await build(t, { hasher, moderation: accountThrottle() })
  await registerAlice(app)
  reset()
  events.all.length = 0

  const elapsed: number[] = []
  for (let i = 0; i < 12; i++) {
    const started = performance.now()
    const response = await login(app, client(i))
    elapsed.push(performance.now() - started)
    t.equal(response.statusCode, 401, `attempt ${i + 1}: a delay, never a lock-out for a new client`)
  }
  const throttled = events.take('security.login_throttled')
  // At most 10 failures (the default LOGIN_ACCOUNT_MAX) go by undelayed: the first attempt after them is held back.
  t.match(throttled, [{ scope: 'account', delayMs: 100, ip: client(10) }, { scope: 'account', delayMs: 200, ip: client(11) }], 'attempts 11 and 12 are delayed, increasingly')
  t.equal(throttled.length, 2, 'attempts 1 to 10 are not')
  const subject = events.take('login.failure')[0]?.subject
  t.ok(throttled.every(e => e.subject === subject), 'the event names the account by the same keyed subject as login.failure')
  t.ok((elapsed[10] ?? 0) >= 90, `attempt 11 waited (${Math.round(elapsed[10] ?? 0)} ms)`)
  t.ok((elapsed[11] ?? 0) >= 190, `attempt 12 waited longer (${Math.round(elapsed[11] ?? 0)} ms)`)
  t.equal(counts.verify, 12, 'a delayed attempt is still evaluated')
  t.same(events.take('moderation.violation'), [], 'never scored')
  t.same(events.take('ban.created'), [])
})

t.test('LOG-03: 150 failures from 150 IPs: the account-wide delay engages after 10, grows, stops at 2 s, and never locks', async t => {
  const clock = manualClock()
  const { hasher, counts, reset } = countingHasher()
  const waits: number[] = []
  const { app, events } = await build(t, { hasher, now: clock.now, wait: async ms => { waits.push(ms) }, moderation: accountThrottle() })
  await registerAlice(app)
  reset()
  events.all.length = 0

  const statuses: number[] = []
  const delays: number[] = []
  for (let i = 0; i < 150; i++) {
    const before = waits.length
    statuses.push((await login(app, client(i))).statusCode)
    delays.push(waits.length > before ? waits.at(-1) ?? 0 : 0)
    clock.advance(1000)
  }
  t.same(statuses, Array(150).fill(401), 'every attempt is evaluated: a delay, never a 429 for a new client')
  t.equal(counts.verify, 150)
  t.same(delays.slice(0, 10), Array(10).fill(0), 'the first 10 failures (LOGIN_ACCOUNT_MAX) are not delayed')
  t.same(delays.slice(10, 31), [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2000], 'then 100 ms more each time')
  t.same(delays.slice(30), Array(120).fill(MAX_ACCOUNT_DELAY), 'and never more than 2 s')
  const throttled = events.take('security.login_throttled')
  t.equal(throttled.length, 140, 'each delayed attempt is reported')
  t.ok(throttled.every(e => e.scope === 'account' && e.delayMs > 0), 'as account-wide delays')
  t.same(events.take('moderation.violation'), [], 'never scored')
  t.same(events.take('ban.created'), [], 'nobody banned')

  clock.advance(15 * MINUTE)
  waits.length = 0
  t.equal((await login(app, client(150), alice.password)).statusCode, 200, 'after the window the owner gets in')
  t.same(waits, [], 'without a delay')
})

t.test('LOG-04: 15 addresses x 7 failures (each under LOGIN_MAX) cannot lock the owner out of a new network', async t => {
  const clock = manualClock()
  const waits: number[] = []
  // The default limits: LOGIN_MAX 7 per 5 minutes per address, LOGIN_ACCOUNT_MAX 10 per 15 minutes.
  const { app, events } = await build(t, { now: clock.now, wait: async ms => { waits.push(ms) }, moderation: {} })
  const userId = await registerAlice(app)
  events.all.length = 0

  for (let address = 0; address < 15; address++) {
    for (let attempt = 0; attempt < 7; attempt++) {
      const response = await login(app, client(address))
      t.equal(response.statusCode, 401, `address ${address + 1}, failure ${attempt + 1}: evaluated`)
    }
  }
  const attack = events.take('security.login_throttled')
  t.equal(attack.length, 95, 'every failure past the 10th is reported')
  t.ok(attack.every(e => e.scope === 'account' && e.delayMs > 0 && e.delayMs <= MAX_ACCOUNT_DELAY), 'as a bounded account-wide delay')
  t.same(new Set(attack.map(e => e.subject)).size, 1, 'about one account')
  t.same(events.take('moderation.limited'), [], 'no address went over LOGIN_MAX')

  waits.length = 0
  const owner = await login(app, '192.0.2.200', alice.password)
  t.equal(owner.statusCode, 200, 'the correct password from a new address gets in')
  t.same(waits, [MAX_ACCOUNT_DELAY], 'after at most the bounded delay')
  t.match(events.take('security.login_throttled'), [{ scope: 'account', delayMs: MAX_ACCOUNT_DELAY, ip: '192.0.2.200' }], 'which is reported too')
  t.match(events.take('login.success'), [{ userId, ip: '192.0.2.200' }])

  clock.advance(HOUR)
  waits.length = 0
  t.equal((await login(app, '192.0.2.201', alice.password)).statusCode, 200, 'an hour later, from yet another address: nothing to renew')
  t.same(waits, [], 'and no delay once the window is over')
  t.same(events.take('ban.created'), [])
  t.same(events.take('session.revoked'), [])
})

t.test('LOG-04: an attacker saturating one account from IP A does not lock the owner out', async t => {
  const { hasher, counts, reset } = countingHasher()
  const mailer = memoryMailer()
  const { app, events } = await build(t, { hasher, mailer, allowUnverifiedEmailLogin: true, moderation: accountThrottle() })
  const userId = await registerAlice(app)
  await app.lcauth.mail?.idle()
  const mailsBefore = mailer.outbox.length
  reset()
  events.all.length = 0
  const attacker = '203.0.113.66'
  const victim = '198.51.100.20'

  for (let i = 0; i < 10; i++) t.equal((await login(app, attacker)).statusCode, 401, `attacker failure ${i + 1}`)
  t.equal(counts.verify, 10)
  const blocked = await login(app, attacker)
  t.equal(blocked.statusCode, 429, 'A is refused on this account')
  t.equal(errorOf(blocked).code, 'FST_LCAUTH_RATE_LIMITED')
  t.ok(Number(blocked.headers['retry-after']) > 0 && Number(blocked.headers['retry-after']) <= 15 * 60)
  t.equal((await login(app, attacker, alice.password)).statusCode, 429, 'even with the right password from A')
  t.equal(counts.verify, 10, 'no password check for A any more')
  t.match(events.take('security.login_throttled'), [{ scope: 'client', delayMs: 0, ip: attacker }, { scope: 'client', ip: attacker }])
  t.equal((await login(app, attacker, 'whatever it is', 'someone.else@example.test')).statusCode, 401, 'A is not limited on other accounts')

  const started = performance.now()
  const owner = await login(app, victim, alice.password)
  const waited = performance.now() - started
  t.equal(owner.statusCode, 200, 'the owner logs in from B')
  t.ok(waited < MAX_ACCOUNT_DELAY + 500, `with at most a short delay (${Math.round(waited)} ms)`)
  t.match(events.take('security.login_throttled'), [{ scope: 'account', ip: victim }])
  t.match(events.take('login.success'), [{ userId, ip: victim }])
  t.equal((await login(app, '192.0.2.55')).statusCode, 401, 'a third client is evaluated, not locked out')

  for (const ip of [victim, attacker]) {
    const reset = await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email: alice.email }, remoteAddress: ip })
    t.equal(reset.statusCode, 200, `the password reset request works from ${ip}`)
  }
  await app.lcauth.mail?.idle()
  t.equal(mailer.outbox.length - mailsBefore, 2, 'and the reset mails go out')
  t.equal(events.take('password.reset_requested').length, 2)

  t.same(events.take('moderation.violation'), [], 'the account throttle never scores')
  t.same(events.take('moderation.limited'), [])
  t.same(events.take('ban.created'), [], 'never bans')
  t.same(events.take('session.revoked'), [], 'never ends a session')
  t.same(await app.lcauth.moderation.list(), [])
  t.equal((await app.lcauth.storage.sessions.listLiveByUser(userId, new Date())).length, 1)
})

// The throttle's rules on their own, with a manual clock and a recorded wait: the real delays would
// make a 150-attempt run take minutes.
function throttleRig (options: { max?: number, windowMs?: number, dryRun?: boolean } = {}): {
  throttle: ReturnType<typeof loginThrottle>
  waits: number[]
  events: Array<AuthEvents['security.login_throttled']>
  clock: ReturnType<typeof manualClock>
  ctx: (ip: string) => RequestContext
} {
  const clock = manualClock()
  const emitter = new AuthEventEmitter(error => { throw error })
  const events: Array<AuthEvents['security.login_throttled']> = []
  emitter.on('security.login_throttled', e => { events.push(e) })
  const waits: number[] = []
  const throttle = loginThrottle({
    store: memoryBanStore(),
    limit: { max: options.max ?? 10, windowMs: options.windowMs ?? 15 * MINUTE },
    dryRun: options.dryRun ?? false,
    events: emitter,
    now: clock.now,
    subjectOf: email => `subject(${email})`,
    wait: async ms => { waits.push(ms) }
  })
  return { throttle, waits, events, clock, ctx: ip => ({ ip, userAgent: null, requestId: null }) }
}

async function tryLogin (throttle: ReturnType<typeof loginThrottle>, email: string, context: RequestContext): Promise<'evaluated' | number> {
  try {
    await throttle.before(email, context)
  } catch (error) {
    return (error as { retryAfterSeconds: number }).retryAfterSeconds
  }
  await throttle.failed(email, context)
  return 'evaluated'
}

t.test('loginThrottle: 150 attempts from 150 clients, delayed at most 2 s each and never refused', async t => {
  const { throttle, waits, events, clock, ctx } = throttleRig()
  const outcomes: Array<'evaluated' | number> = []
  const delaysByAttempt: number[] = []
  for (let i = 0; i < 150; i++) {
    const before = waits.length
    outcomes.push(await tryLogin(throttle, 'victim@example.test', ctx(client(i))))
    delaysByAttempt.push(waits.length > before ? waits.at(-1) ?? 0 : 0)
    clock.advance(5000)
  }
  t.same(outcomes, Array(150).fill('evaluated'), 'no hourly ceiling: every attempt from a new client is evaluated')
  t.same(delaysByAttempt.slice(0, 10), Array(10).fill(0), 'the first 10 failures are not delayed')
  t.same(delaysByAttempt.slice(10, 31), [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2000], 'then 100 ms more each time, up to 2 s')
  t.ok(delaysByAttempt.every(d => d <= MAX_ACCOUNT_DELAY))
  t.ok(events.every(e => e.subject === 'subject(victim@example.test)' && e.scope === 'account'), 'account-scope events about the keyed subject')
  t.equal(events.length, 140, 'one event per delayed attempt')
})

t.test('loginThrottle: 15 clients x 7 failures, then the owner from a new client: one bounded wait, no refusal', async t => {
  const { throttle, waits, events, ctx } = throttleRig()
  for (let i = 0; i < 15; i++) {
    for (let n = 0; n < 7; n++) t.equal(await tryLogin(throttle, 'victim@example.test', ctx(client(i))), 'evaluated')
  }
  waits.length = 0
  events.length = 0
  await t.resolves(throttle.before('victim@example.test', ctx('192.0.2.250')), 'a new client passes')
  t.same(waits, [MAX_ACCOUNT_DELAY], 'after at most the bounded delay')
  t.match(events, [{ scope: 'account', delayMs: MAX_ACCOUNT_DELAY }])
})

t.test('loginThrottle: the account window ends the delay', async t => {
  const { throttle, waits, clock, ctx } = throttleRig()
  for (let i = 0; i < 30; i++) await tryLogin(throttle, 'victim@example.test', ctx(client(i)))
  waits.length = 0
  t.equal(await tryLogin(throttle, 'victim@example.test', ctx('192.0.2.1')), 'evaluated')
  t.same(waits, [MAX_ACCOUNT_DELAY], 'delayed while the window lasts')
  clock.advance(15 * MINUTE)
  waits.length = 0
  t.equal(await tryLogin(throttle, 'victim@example.test', ctx('192.0.2.1')), 'evaluated')
  t.same(waits, [], 'no delay once the window is over')
})

t.test('loginThrottle: per-client budget per account, keyed by /64', async t => {
  const { throttle, events, clock, ctx } = throttleRig({ max: 3 })
  for (let i = 1; i <= 3; i++) t.equal(await tryLogin(throttle, 'victim@example.test', ctx(`2001:db8:5:5::${i}`)), 'evaluated')
  const refused = await tryLogin(throttle, 'victim@example.test', ctx('2001:db8:5:5::99'))
  t.type(refused, 'number', 'a fourth failure from the same /64 is refused')
  t.ok(typeof refused === 'number' && refused <= 15 * 60)
  t.match(events.at(-1), { scope: 'client', delayMs: 0, subject: 'subject(victim@example.test)', ip: '2001:db8:5:5::99' })
  t.equal(await tryLogin(throttle, 'victim@example.test', ctx('2001:db8:5:6::1')), 'evaluated', 'another /64 is not refused (only delayed)')
  t.equal(await tryLogin(throttle, 'other@example.test', ctx('2001:db8:5:5::1')), 'evaluated', 'the same client on another account is not refused')
  t.equal(await tryLogin(throttle, 'ghost@nowhere.test', ctx('2001:db8:5:5::1')), 'evaluated', 'accounts that do not exist are counted like any other')
  clock.advance(15 * MINUTE)
  t.equal(await tryLogin(throttle, 'victim@example.test', ctx('2001:db8:5:5::1')), 'evaluated', 'after the window the client may try again')
})

t.test('loginThrottle: dryRun refuses and delays nothing but reports', async t => {
  const { throttle, waits, events, ctx } = throttleRig({ max: 2, dryRun: true })
  const outcomes: Array<'evaluated' | number> = []
  for (let i = 0; i < 20; i++) outcomes.push(await tryLogin(throttle, 'victim@example.test', ctx(i < 5 ? '203.0.113.1' : client(i))))
  t.ok(outcomes.every(o => o === 'evaluated'), 'nothing refused')
  t.same(waits, [], 'nothing delayed')
  t.ok(events.some(e => e.scope === 'client'), 'client-scope reports')
  t.ok(events.some(e => e.scope === 'account' && e.delayMs > 0), 'delay reports')
})

t.test('the per-client budget counts failures only: an owner logging in often from one address is never throttled', async t => {
  const { app, events } = await build(t, { moderation: accountThrottle({ max: 3, windowMs: 15 * MINUTE }) })
  await registerAlice(app)
  for (let i = 0; i < 10; i++) t.equal((await login(app, '192.0.2.1', alice.password)).statusCode, 200, `login ${i + 1}`)
  t.same(events.take('security.login_throttled'), [])
  for (let i = 0; i < 3; i++) t.equal((await login(app, '192.0.2.1')).statusCode, 401)
  t.equal((await login(app, '192.0.2.1', alice.password)).statusCode, 429, 'three failures spend the budget, even for the right password')
})
