import { setImmediate as tick } from 'node:timers/promises'
import t from 'tap'
import { AuthEventEmitter, type AuthEventName, type AuthEvents, type Ban, type BanStore, type BanSubject, memoryBanStore, type User } from '../../index.ts'
import { noContext } from '../../lib/context.ts'
import { optionsFromEnv } from '../../lib/env/options-from-env.ts'
import { banCache } from '../../lib/moderation/ban-cache.ts'
import { type ModerationConfig, resolveModeration } from '../../lib/moderation/config.ts'
import { LIMITERS, type LimiterName, SCORES, type ViolationType } from '../../lib/moderation/limits.ts'
import { moderationService } from '../../lib/moderation/moderation-service.ts'
import { resilientBanStore } from '../../lib/moderation/resilient-store.ts'
import { isBrowser } from '../../lib/moderation/user-agent.ts'
import { resolveOptions } from '../../lib/options/resolve.ts'
import { proxyTrust } from '../../plugins/http/client-address.ts'
import { baseOptions } from '../helpers/app.ts'
import { manualClock } from '../helpers/doubles.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

function refusal (run: () => unknown): string {
  try {
    run()
  } catch (error) {
    return `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`
  }
  return 'accepted'
}

// ---------------------------------------------------------------------------------------------
// config.ts
// ---------------------------------------------------------------------------------------------

const DEFAULT_LIMITS: Record<LimiterName, { max: number, windowMs: number }> = {
  login: { max: 7, windowMs: 5 * MINUTE },
  register: { max: 5, windowMs: 60 * MINUTE },
  refresh: { max: 30, windowMs: MINUTE },
  refreshIp: { max: 600, windowMs: MINUTE },
  passwordChange: { max: 7, windowMs: 5 * MINUTE },
  accountDeletion: { max: 5, windowMs: 60 * MINUTE },
  resetPassword: { max: 2, windowMs: 2 * MINUTE },
  resetPasswordSubmission: { max: 2, windowMs: 2 * MINUTE },
  verifyEmail: { max: 2, windowMs: 2 * MINUTE },
  verifyEmailSubmission: { max: 2, windowMs: 2 * MINUTE },
  messageIp: { max: 40, windowMs: MINUTE },
  messageUser: { max: 40, windowMs: MINUTE },
  loginAccount: { max: 10, windowMs: 15 * MINUTE }
}

const DEFAULT_SCORES: Record<ViolationType, number> = {
  logins: 1, registrations: 1, concurrent: 1, message_limit: 1, non_browser: 20, refresh: 1, password_change: 1, account_deletion: 1, reset_password_limit: 1, verify_email_limit: 1
}

t.test('resolveModeration: LibreChat\'s defaults', async t => {
  const expected: ModerationConfig = {
    banViolations: true,
    banDuration: 2 * HOUR,
    banInterval: 20,
    violationTtl: DAY,
    dryRun: false,
    limits: DEFAULT_LIMITS,
    scores: DEFAULT_SCORES,
    limitMessageIp: false,
    limitMessageUser: false,
    limitConcurrentMessages: false,
    concurrentMessageMax: 2,
    concurrentTtl: MINUTE,
    banCacheTtl: 1000
  }
  t.same(resolveModeration(undefined), expected)
  t.same(resolveModeration({}), expected)
  t.same(resolveOptions(baseOptions, false).config.moderation.banInterval, 20, 'through resolveOptions too')

  const custom = resolveModeration({ banViolations: false, banDuration: 0, banInterval: 5, violationTtl: 1000, dryRun: true, limitMessageIp: true, limitMessageUser: true, limitConcurrentMessages: true, concurrentMessageMax: 1, concurrentTtl: 1000, banCacheTtl: 0, limits: { login: { max: 1, windowMs: 1000 } }, scores: { logins: 0, non_browser: 3 } })
  t.match(custom, { banViolations: false, banDuration: 0, banInterval: 5, violationTtl: 1000, dryRun: true, limitMessageIp: true, limitMessageUser: true, limitConcurrentMessages: true, concurrentMessageMax: 1, concurrentTtl: 1000, banCacheTtl: 0 })
  t.same(custom.limits.login, { max: 1, windowMs: 1000 })
  t.same(custom.limits.register, DEFAULT_LIMITS.register, 'the limiters not given keep their defaults')
  t.same(custom.scores, { ...DEFAULT_SCORES, logins: 0, non_browser: 3 })
})

t.test('resolveModeration: the submission limiters fall back to their request limiter', async t => {
  const both = resolveModeration({ limits: { resetPassword: { max: 9, windowMs: 10 * MINUTE }, verifyEmail: { max: 4, windowMs: 3 * MINUTE } } })
  t.same(both.limits.resetPasswordSubmission, { max: 9, windowMs: 10 * MINUTE })
  t.same(both.limits.verifyEmailSubmission, { max: 4, windowMs: 3 * MINUTE })
  const own = resolveModeration({ limits: { resetPassword: { max: 9, windowMs: 10 * MINUTE }, resetPasswordSubmission: { max: 1, windowMs: 1000 } } })
  t.same(own.limits.resetPasswordSubmission, { max: 1, windowMs: 1000 }, 'an explicit submission limiter wins')
  t.same(own.limits.resetPassword, { max: 9, windowMs: 10 * MINUTE })
  const submissionOnly = resolveModeration({ limits: { verifyEmailSubmission: { max: 6, windowMs: 6000 } } })
  t.same(submissionOnly.limits.verifyEmail, DEFAULT_LIMITS.verifyEmail, 'it never flows the other way')
  t.same(resolveModeration({ limits: { login: { max: 3, windowMs: 1000 } } }).limits.resetPasswordSubmission, DEFAULT_LIMITS.resetPassword, 'no fallback for other limiters')
})

t.test('resolveModeration: bad values are errors naming the option', async t => {
  const cases: Array<[unknown, string]> = [
    ['on', 'moderation '],
    [null, 'moderation '],
    [{ banViolations: 'yes' }, 'moderation.banViolations '],
    [{ banDuration: -1 }, 'moderation.banDuration '],
    [{ banDuration: 1.5 }, 'moderation.banDuration '],
    [{ banDuration: '7200000' }, 'moderation.banDuration '],
    [{ banDuration: 366 * DAY }, 'moderation.banDuration '],
    [{ banInterval: 0 }, 'moderation.banInterval '],
    [{ violationTtl: 999 }, 'moderation.violationTtl '],
    [{ dryRun: 1 }, 'moderation.dryRun '],
    [{ limitMessageIp: 'true' }, 'moderation.limitMessageIp '],
    [{ limitMessageUser: 1 }, 'moderation.limitMessageUser '],
    [{ limitConcurrentMessages: null }, 'moderation.limitConcurrentMessages '],
    [{ concurrentMessageMax: 0 }, 'moderation.concurrentMessageMax '],
    [{ concurrentTtl: 500 }, 'moderation.concurrentTtl '],
    [{ banCacheTtl: -1 }, 'moderation.banCacheTtl '],
    [{ banCacheTtl: MINUTE + 1 }, 'moderation.banCacheTtl '],
    [{ limits: 'many' }, 'moderation.limits '],
    [{ limits: { bogus: { max: 1, windowMs: 1000 } } }, 'moderation.limits.bogus '],
    [{ limits: { Login: { max: 1, windowMs: 1000 } } }, 'moderation.limits.Login '],
    [{ limits: { login: null } }, 'moderation.limits.login '],
    [{ limits: { login: 5 } }, 'moderation.limits.login '],
    [{ limits: { login: { max: 0, windowMs: 1000 } } }, 'moderation.limits.login.max '],
    [{ limits: { login: { max: 2.5, windowMs: 1000 } } }, 'moderation.limits.login.max '],
    [{ limits: { login: { max: '5', windowMs: 1000 } } }, 'moderation.limits.login.max '],
    [{ limits: { login: { max: 5, windowMs: 999 } } }, 'moderation.limits.login.windowMs '],
    [{ limits: { messageUser: { max: 5, windowMs: 31 * DAY } } }, 'moderation.limits.messageUser.windowMs '],
    [{ scores: 'high' }, 'moderation.scores '],
    [{ scores: { bogus: 1 } }, 'moderation.scores.bogus '],
    [{ scores: { nonBrowser: 1 } }, 'moderation.scores.nonBrowser '],
    [{ scores: { logins: -1 } }, 'moderation.scores.logins '],
    [{ scores: { non_browser: 0.5 } }, 'moderation.scores.non_browser '],
    [JSON.parse('{"limits":{"__proto__":{"max":1,"windowMs":1000}}}'), 'moderation.limits.__proto__ ']
  ]
  for (const [value, option] of cases) {
    const message = refusal(() => resolveModeration(value))
    t.ok(message.startsWith('FST_LCAUTH_CONFIG_INVALID ') && message.includes(`: ${option}`), `${JSON.stringify(value)} → names ${option.trim()} (${message})`)
  }
  // Through the plugin's option check as well.
  t.match(refusal(() => resolveOptions({ ...baseOptions, moderation: { banInterval: 0 } }, false)), /moderation\.banInterval/)
})

t.test('resolveModeration: a limit given without max or windowMs is refused, never NaN', async t => {
  for (const [limit, missing] of [[{ windowMs: MINUTE }, 'max'], [{ max: 5 }, 'windowMs'], [{}, 'max']] as const) {
    const message = refusal(() => resolveModeration({ limits: { login: limit } }))
    if (message === 'accepted') {
      const resolved = resolveModeration({ limits: { login: limit } }).limits.login
      t.fail(`{ login: ${JSON.stringify(limit)} } was accepted as ${JSON.stringify(resolved)} (max ${resolved.max}, windowMs ${resolved.windowMs})`)
    } else {
      t.match(message, `moderation.limits.login.${missing}`, `{ login: ${JSON.stringify(limit)} } names the missing field`)
    }
  }
})

t.test('resolveModeration: only own properties are read (a polluted prototype changes nothing)', async t => {
  const inheritedLimit = Object.create({ login: { max: 1_000_000, windowMs: 1000 } }) as Record<string, unknown>
  t.same(resolveModeration({ limits: inheritedLimit }).limits.login, DEFAULT_LIMITS.login, 'an inherited limiter entry is ignored')
  const inheritedScore = Object.create({ logins: 0 }) as Record<string, unknown>
  t.equal(resolveModeration({ scores: inheritedScore }).scores.logins, 1, 'an inherited score is ignored')
  const inheritedTop = Object.create({ banViolations: false, dryRun: true }) as Record<string, unknown>
  t.match(resolveModeration(inheritedTop), { banViolations: true, dryRun: false }, 'inherited top-level options are ignored')
})

// ---------------------------------------------------------------------------------------------
// env.ts
// ---------------------------------------------------------------------------------------------

t.test('optionsFromEnv: every moderation variable, in LibreChat\'s forms and units', async t => {
  const options = optionsFromEnv({
    BAN_VIOLATIONS: 'false',
    BAN_DURATION: '1000 * 60 * 60 * 2',
    BAN_INTERVAL: '25',
    VIOLATION_TTL: '1000 * 60 * 60 * 12',
    MODERATION_DRY_RUN: 'TRUE',
    LIMIT_MESSAGE_IP: 'true',
    LIMIT_MESSAGE_USER: ' True ',
    LIMIT_CONCURRENT_MESSAGES: 'true',
    CONCURRENT_MESSAGE_MAX: '3',
    USE_REDIS: 'true',
    REDIS_URI: 'redis://cache.internal:6379',
    REDIS_KEY_PREFIX: 'chat:',
    TRUST_PROXY: '10.0.0.0/8, 192.168.0.1,'
  })
  t.same(options.moderation, {
    banViolations: false,
    banDuration: 2 * HOUR,
    banInterval: 25,
    violationTtl: 12 * HOUR,
    dryRun: true,
    limitMessageIp: true,
    limitMessageUser: true,
    limitConcurrentMessages: true,
    concurrentMessageMax: 3
  })
  t.same(options.banStore, { url: 'redis://cache.internal:6379', keyPrefix: 'chat:' })
  t.same(options.trustProxy, ['10.0.0.0/8', '192.168.0.1'])
  t.same(optionsFromEnv({}), { allowRegistration: false }, 'nothing set: no moderation, banStore or trustProxy key at all')
  t.same(optionsFromEnv({ BAN_INTERVAL: '', LOGIN_MAX: '  ', TRUST_PROXY: '' }), { allowRegistration: false }, 'empty variables are unset')
})

t.test('optionsFromEnv: every limiter\'s <PREFIX>_MAX and <PREFIX>_WINDOW (minutes)', async t => {
  const env: Record<string, string> = {}
  const expected: Partial<Record<LimiterName, { max: number, windowMs: number }>> = {}
  Object.entries(LIMITERS).forEach(([name, spec], i) => {
    env[`${spec.env}_MAX`] = String(100 + i)
    env[`${spec.env}_WINDOW`] = String(i + 1)
    expected[name as LimiterName] = { max: 100 + i, windowMs: (i + 1) * MINUTE }
  })
  t.same(optionsFromEnv(env).moderation?.limits, expected)
  t.equal(Object.keys(expected).length, 13, 'all thirteen limiters')

  t.same(optionsFromEnv({ LOGIN_WINDOW: '1000 * 60' }).moderation?.limits?.login, { max: 7, windowMs: 1000 * 60 * MINUTE }, 'a product is in minutes too')
  t.same(optionsFromEnv({ LOGIN_WINDOW: '90s' }).moderation?.limits?.login, { max: 7, windowMs: 90_000 }, 'a suffix overrides the unit')
  t.same(optionsFromEnv({ LOGIN_MAX: '3' }).moderation?.limits, { login: { max: 3, windowMs: 5 * MINUTE } }, 'half a pair: the other half is the default')
  t.same(optionsFromEnv({ REGISTER_WINDOW: '30' }).moderation?.limits, { register: { max: 5, windowMs: 30 * MINUTE } })
  t.same(optionsFromEnv({ REFRESH_IP_MAX: '2000' }).moderation?.limits, { refreshIp: { max: 2000, windowMs: MINUTE } }, 'REFRESH_IP_MAX: the per-address refresh ceiling')
  t.same(optionsFromEnv({ RESET_PASSWORD_SUBMISSION_MAX: '4' }).moderation?.limits, { resetPasswordSubmission: { max: 4, windowMs: 2 * MINUTE } }, 'a submission limiter\'s missing half comes from its request limiter')
  t.same(optionsFromEnv({ VERIFY_EMAIL_SUBMISSION_WINDOW: '10' }).moderation?.limits, { verifyEmailSubmission: { max: 2, windowMs: 10 * MINUTE } })

  const fallback = resolveModeration(optionsFromEnv({ RESET_PASSWORD_MAX: '9', RESET_PASSWORD_WINDOW: '10', VERIFY_EMAIL_MAX: '6' }).moderation)
  t.same(fallback.limits.resetPasswordSubmission, { max: 9, windowMs: 10 * MINUTE }, 'unset *_SUBMISSION_* variables follow the request limiter')
  t.same(fallback.limits.verifyEmailSubmission, { max: 6, windowMs: 2 * MINUTE })
})

t.test('optionsFromEnv: every *_VIOLATION_SCORE', async t => {
  const env: Record<string, string> = {}
  const expected: Partial<Record<ViolationType, number>> = {}
  Object.entries(SCORES).forEach(([type, spec], i) => {
    env[spec.env] = String(i)
    expected[type as ViolationType] = i
  })
  t.same(optionsFromEnv(env).moderation?.scores, expected)
  t.same(Object.keys(expected).sort(), Object.keys(DEFAULT_SCORES).sort())
  t.same(optionsFromEnv({ NON_BROWSER_VIOLATION_SCORE: '0' }).moderation, { scores: { non_browser: 0 } })
})

t.test('optionsFromEnv: BAN_DURATION forms, soft ban for zero and negatives', async t => {
  const duration = (value: string): number | undefined => optionsFromEnv({ BAN_DURATION: value }).moderation?.banDuration
  t.equal(duration('1000 * 60 * 60 * 2'), 7_200_000)
  t.equal(duration('(1000 * 60) * 60 * 24'), DAY)
  t.equal(duration('7200000'), 7_200_000)
  t.equal(duration('2h'), 7_200_000)
  t.equal(duration('0'), 0, 'zero: soft ban')
  t.equal(duration('-1'), 0, 'negative: soft ban, as in LibreChat')
  t.equal(duration('-1000 * 60'), 0)
  t.equal(resolveModeration(optionsFromEnv({ BAN_DURATION: '-5' }).moderation).banDuration, 0, 'and the plugin accepts it')
  t.match(refusal(() => optionsFromEnv({ BAN_DURATION: 'two hours' })), /BAN_DURATION/)
  t.match(refusal(() => optionsFromEnv({ VIOLATION_TTL: 'eval(1)' })), /VIOLATION_TTL/)
})

t.test('optionsFromEnv: USE_REDIS, REDIS_URI, REDIS_KEY_PREFIX', async t => {
  t.match(refusal(() => optionsFromEnv({ USE_REDIS: 'true' })), /FST_LCAUTH_CONFIG_INVALID .*REDIS_URI is required when USE_REDIS=true/)
  t.same(optionsFromEnv({ USE_REDIS: 'true', REDIS_URI: 'redis://localhost:6379' }).banStore, { url: 'redis://localhost:6379' }, 'no prefix: the store\'s default')
  t.same(optionsFromEnv({ USE_REDIS: 'true', REDIS_URI: 'rediss://r.example:6380/2', REDIS_KEY_PREFIX: 'lc' }).banStore, { url: 'rediss://r.example:6380/2', keyPrefix: 'lc' })
  t.equal(optionsFromEnv({ USE_REDIS: 'false', REDIS_URI: 'redis://localhost:6379' }).banStore, undefined, 'USE_REDIS=false: no Redis')
  t.equal(optionsFromEnv({ REDIS_URI: 'redis://localhost:6379' }).banStore, undefined, 'USE_REDIS unset: no Redis')
  t.match(refusal(() => optionsFromEnv({ USE_REDIS: 'yes', REDIS_URI: 'redis://localhost:6379' })), /USE_REDIS/)
})

t.test('optionsFromEnv: TRUST_PROXY', async t => {
  const trust = (value: string): unknown => optionsFromEnv({ TRUST_PROXY: value }).trustProxy
  t.same(trust('10.0.0.0/8,192.168.1.1'), ['10.0.0.0/8', '192.168.1.1'])
  t.same(trust(' loopback , uniquelocal '), ['loopback', 'uniquelocal'])
  t.same(trust('2001:db8::/32'), ['2001:db8::/32'])
  t.equal(trust('true'), true)
  t.equal(trust('TRUE'), true)
  t.equal(trust('false'), false)
  t.equal(trust('1'), 1, 'LibreChat\'s hop count')
  t.equal(trust('0'), 0)
  // The unsafe forms reach the option check, which refuses them in production.
  for (const value of ['1', 'true']) {
    const options = { ...baseOptions, ...optionsFromEnv({ TRUST_PROXY: value }) }
    t.match(refusal(() => resolveOptions({ ...options, production: true, bcryptRounds: 12 }, true)), /trustProxy/, `TRUST_PROXY=${value} refused in production`)
    t.ok(resolveOptions(options, false).warnings.some(w => w.startsWith('trustProxy')), `TRUST_PROXY=${value} a warning otherwise`)
  }
  // A list entry that is not an address is refused where the list is compiled: at registration.
  t.match(refusal(() => proxyTrust(optionsFromEnv({ TRUST_PROXY: '10.0.0.0/8, bogus' }).trustProxy)), /trustProxy .*bogus/)
})

t.test('optionsFromEnv: a moderation value it cannot read names the variable', async t => {
  const cases: Array<[string, string]> = [
    ['BAN_VIOLATIONS', 'maybe'],
    ['BAN_INTERVAL', '-1'],
    ['BAN_INTERVAL', '2.5'],
    ['MODERATION_DRY_RUN', '1'],
    ['LIMIT_MESSAGE_IP', 'yes'],
    ['LIMIT_MESSAGE_USER', 'on'],
    ['LIMIT_CONCURRENT_MESSAGES', 'enabled'],
    ['CONCURRENT_MESSAGE_MAX', 'two'],
    ['LOGIN_MAX', 'abc'],
    ['LOGIN_WINDOW', 'five'],
    ['MESSAGE_IP_WINDOW', '1 minute'],
    ['LOGIN_ACCOUNT_MAX', '1e3'],
    ['RESET_PASSWORD_SUBMISSION_WINDOW', '-2'],
    ['NON_BROWSER_VIOLATION_SCORE', 'x'],
    ['LOGIN_VIOLATION_SCORE', '-1'],
    ['VERIFY_EMAIL_VIOLATION_SCORE', '1.5']
  ]
  for (const [name, value] of cases) {
    const message = refusal(() => optionsFromEnv({ [name]: value }))
    t.ok(message.startsWith('FST_LCAUTH_CONFIG_INVALID ') && message.includes(`: ${name} `), `${name}=${value} → ${message}`)
  }
})

// ---------------------------------------------------------------------------------------------
// resilient-store.ts
// ---------------------------------------------------------------------------------------------

/** A shared store (think Redis) the test can break and repair; counts the calls that reach it. */
function switchableStore (options: { watch?: boolean, init?: boolean } = {}): { store: BanStore, inner: BanStore, state: { broken: boolean, calls: number } } {
  const inner = memoryBanStore()
  const state = { broken: false, calls: 0 }
  const reach = (): void => {
    state.calls++
    if (state.broken) throw new Error('ECONNREFUSED')
  }
  const store: BanStore = {
    kind: 'redis',
    async find (subject, now) { reach(); return await inner.find(subject, now) },
    async put (ban) { reach(); await inner.put(ban) },
    async lift (subject) { reach(); return await inner.lift(subject) },
    async list (now) { reach(); return await inner.list(now) },
    async addViolation (subject, type, score, ttlMs, now) { reach(); return await inner.addViolation(subject, type, score, ttlMs, now) },
    async hit (key, windowMs, now) { reach(); return await inner.hit(key, windowMs, now) },
    async peek (key, now) { reach(); return await inner.peek(key, now) },
    async acquire (key, ttlMs, now) { reach(); return await inner.acquire(key, ttlMs, now) },
    async release (key, now) { reach(); await inner.release(key, now) },
    async purge (now) { reach(); return await inner.purge(now) },
    async close () { await inner.close() }
  }
  if (options.watch === true) store.watch = () => () => {}
  if (options.init === true) store.init = async () => { reach() }
  return { store, inner, state }
}

function resilientRig (options: { watch?: boolean, init?: boolean } = {}): {
  store: BanStore, inner: BanStore, state: { broken: boolean, calls: number }, clock: ReturnType<typeof manualClock>, downs: unknown[], ups: { count: number }
} {
  const { store: primary, inner, state } = switchableStore(options)
  const clock = manualClock()
  const downs: unknown[] = []
  const ups = { count: 0 }
  const store = resilientBanStore(primary, { fallback: memoryBanStore(), now: clock.now, retryMs: 1000, onDown: error => { downs.push(error) }, onUp: () => { ups.count++ } })
  return { store, inner, state, clock, downs, ups }
}

const ipBan = (id: string, at: Date, ms = HOUR): Ban => ({ subject: { kind: 'ip', id }, reason: 'logins', createdAt: at, expiresAt: new Date(at.getTime() + ms) })

t.test('resilientBanStore: a healthy shared store does the work', async t => {
  const { store, inner, state, clock, downs, ups } = resilientRig()
  t.equal(store.kind, 'redis', 'it reports the shared store\'s kind')
  t.same(await store.hit('limit:login:1.2.3.4', MINUTE, clock.now()), { count: 1, resetAt: new Date(clock.ms() + MINUTE) })
  t.equal((await inner.peek('limit:login:1.2.3.4', clock.now())).count, 1, 'counted in the shared store')
  await store.put(ipBan('1.2.3.4', clock.now()))
  t.ok(await inner.find({ kind: 'ip', id: '1.2.3.4' }, clock.now()))
  t.equal(state.calls, 2)
  t.same(downs, [])
  t.equal(ups.count, 0, 'onUp only after an outage')
})

t.test('resilientBanStore: an outage falls back to memory, reports once, retries after retryMs, recovers', async t => {
  const { store, state, clock, downs, ups } = resilientRig()
  state.broken = true
  t.same((await store.hit('k', MINUTE, clock.now())).count, 1, 'the failed command is answered from memory')
  t.equal(downs.length, 1, 'onDown once')
  t.match(downs[0], { message: 'ECONNREFUSED' }, 'with the error')
  const reached = state.calls
  t.equal((await store.hit('k', MINUTE, clock.now())).count, 2)
  await store.peek('k', clock.now())
  await store.find({ kind: 'ip', id: 'x' }, clock.now())
  await store.addViolation({ kind: 'ip', id: 'x' }, 'logins', 1, HOUR, clock.now())
  t.equal(state.calls, reached, 'no command is sent to the shared store within retryMs')

  clock.advance(999)
  await store.hit('k', MINUTE, clock.now())
  t.equal(state.calls, reached, 'still not at 999 ms')
  clock.advance(1)
  t.equal((await store.hit('k', MINUTE, clock.now())).count, 4, 'a retry that fails is answered from memory too')
  t.equal(state.calls, reached + 1, 'one retry after retryMs')
  t.equal(downs.length, 1, 'still one onDown for the whole outage')

  state.broken = false
  await store.hit('k', MINUTE, clock.now())
  t.equal(ups.count, 0, 'not retried before the next retryMs')
  clock.advance(1000)
  await store.hit('k', MINUTE, clock.now())
  t.equal(ups.count, 1, 'onUp on the first command that works')
  await store.hit('k', MINUTE, clock.now())
  t.equal(ups.count, 1, 'once')

  state.broken = true
  await store.hit('k', MINUTE, clock.now())
  t.equal(downs.length, 2, 'a new outage is reported again')
})

t.test('resilientBanStore: counts from the outage still count after recovery (no burst above max)', async t => {
  const { store, inner, state, clock } = resilientRig()
  const max = 3
  await store.hit('limit:login:9.9.9.9', MINUTE, clock.now())
  state.broken = true
  const during: number[] = []
  for (let i = 0; i < 3; i++) during.push((await store.hit('limit:login:9.9.9.9', MINUTE, clock.now())).count)
  t.same(during, [2, 3, 4], 'during the outage memory counts on top of the last shared count (1)')
  state.broken = false
  clock.advance(1000)
  const after = await store.hit('limit:login:9.9.9.9', MINUTE, clock.now())
  t.equal(after.count, 5, 'after recovery: the shared count (2) plus what memory counted (3)')
  t.ok(after.count > max, 'so the client stays over max')
  t.equal((await inner.peek('limit:login:9.9.9.9', clock.now())).count, 2, 'the shared store holds only its own hits')
  t.equal((await store.peek('limit:login:9.9.9.9', clock.now())).count, 5, 'peek adds them up too')
  t.equal((await store.peek('limit:login:other', clock.now())).count, 0)

  // A key only the fallback saw during the outage.
  state.broken = true
  clock.advance(1000)
  for (let i = 0; i < 4; i++) await store.hit('limit:register:8.8.8.8', MINUTE, clock.now())
  state.broken = false
  clock.advance(1000)
  t.equal((await store.peek('limit:register:8.8.8.8', clock.now())).count, 4, 'a key counted only in memory')
  t.equal((await store.hit('limit:register:8.8.8.8', MINUTE, clock.now())).count, 5, 'shared 1 + memory 4')

  // Memory's window (opened during the outage) ends 500 ms before the shared one (opened 1 s later).
  clock.advance(MINUTE - 500)
  t.equal((await store.hit('limit:register:8.8.8.8', MINUTE, clock.now())).count, 2, 'once the outage\'s windows are over, only the shared store counts')
})

t.test('resilientBanStore: bans put during the outage are found, and copied to the shared store on recovery', async t => {
  const { store, inner, state, clock } = resilientRig()
  const before = ipBan('1.1.1.1', clock.now())
  await store.put(before)
  const unseen = ipBan('4.4.4.4', clock.now())
  await inner.put(unseen)
  t.match(await store.find({ kind: 'ip', id: '1.1.1.1' }, clock.now()), { subject: { id: '1.1.1.1' } })
  state.broken = true
  const during = ipBan('2.2.2.2', clock.now())
  const short = ipBan('3.3.3.3', clock.now(), 2000)
  await store.put(during)
  await store.put(short)
  t.match(await store.find({ kind: 'ip', id: '2.2.2.2' }, clock.now()), { subject: { id: '2.2.2.2' } }, 'found from memory during the outage')
  t.match(await store.find({ kind: 'ip', id: '1.1.1.1' }, clock.now()), { subject: { id: '1.1.1.1' } }, 'a ban seen before the outage is still enforced during it')
  t.equal(await store.find({ kind: 'ip', id: '4.4.4.4' }, clock.now()), null, 'one never looked up cannot be seen while the shared store is down')
  t.same((await store.list(clock.now())).map(b => b.subject.id).sort(), ['2.2.2.2', '3.3.3.3'], 'list during the outage: what memory has')
  t.equal(await inner.find({ kind: 'ip', id: '2.2.2.2' }, clock.now()), null, 'not in the shared store yet')

  state.broken = false
  clock.advance(2000)
  t.match(await store.find({ kind: 'ip', id: '2.2.2.2' }, clock.now()), { subject: { id: '2.2.2.2' } }, 'still banned right after recovery')
  await tick()
  await tick()
  t.match(await inner.find({ kind: 'ip', id: '2.2.2.2' }, clock.now()), { reason: 'logins', expiresAt: during.expiresAt }, 'copied to the shared store with its own expiry')
  t.equal(await inner.find({ kind: 'ip', id: '3.3.3.3' }, clock.now()), null, 'an expired outage ban is not copied')
  const listed = (await store.list(clock.now())).map(b => b.subject.id).sort()
  t.same(listed, ['1.1.1.1', '2.2.2.2', '4.4.4.4'], 'list merges both stores without duplicates')

  t.equal(await store.lift({ kind: 'ip', id: '2.2.2.2' }), true)
  t.equal(await store.find({ kind: 'ip', id: '2.2.2.2' }, clock.now()), null, 'lift removes it from both places')
  t.equal(await inner.find({ kind: 'ip', id: '2.2.2.2' }, clock.now()), null)
})

t.test('resilientBanStore: violations, in-flight slots and purge keep working in an outage', async t => {
  const { store, state, clock } = resilientRig()
  const subject: BanSubject = { kind: 'user', id: 'u1' }
  state.broken = true
  t.equal(await store.addViolation(subject, 'logins', 5, HOUR, clock.now()), 5)
  t.equal(await store.addViolation(subject, 'logins', 5, HOUR, clock.now()), 10, 'scores add up in memory')
  t.equal(await store.acquire('concurrent:u1', MINUTE, clock.now()), 1)
  t.equal(await store.acquire('concurrent:u1', MINUTE, clock.now()), 2)
  await store.release('concurrent:u1', clock.now())
  t.equal(await store.acquire('concurrent:u1', MINUTE, clock.now()), 2, 'release works in memory')
  await t.rejects(store.lift({ kind: 'ip', id: 'none' }), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE' }, 'a lift needs the shared store, and says so')
  t.type(await store.purge(new Date(clock.ms() + 2 * DAY)), 'number', 'purge does not throw')
})

t.test('resilientBanStore: init and watch', async t => {
  const failing = resilientRig({ init: true })
  failing.state.broken = true
  await t.rejects(failing.store.init?.() ?? Promise.resolve(), { message: 'ECONNREFUSED' }, 'a failing init rejects')
  t.equal(failing.downs.length, 1, 'and reports the outage')
  t.equal((await failing.store.hit('k', MINUTE, failing.clock.now())).count, 1, 'then it runs from memory')
  t.equal(failing.state.calls, 1, 'without hammering the shared store')

  t.type(resilientRig({ watch: true }).store.watch, 'function', 'a watchable shared store stays watchable')
  t.equal(resilientRig().store.watch, undefined, 'no watch when the shared store has none')
  t.equal(resilientRig().store.init, undefined)
})

// ---------------------------------------------------------------------------------------------
// ban-cache.ts
// ---------------------------------------------------------------------------------------------

function countingStore (): { store: BanStore, inner: BanStore, finds: { count: number }, listeners: Set<(subject: BanSubject) => void> } {
  const inner = memoryBanStore()
  const finds = { count: 0 }
  const listeners = new Set<(subject: BanSubject) => void>()
  const store: BanStore = {
    ...inner,
    kind: 'counting',
    async find (subject, now) {
      finds.count++
      return await inner.find(subject, now)
    },
    watch (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
  return { store, inner, finds, listeners }
}

t.test('banCache: lookups are reused for the TTL, absent bans included', async t => {
  const { store, inner, finds } = countingStore()
  const clock = manualClock()
  const cache = banCache(store, 1000)
  const subject: BanSubject = { kind: 'ip', id: '1.2.3.4' }
  t.equal(await cache.find(subject, clock.now()), null)
  await inner.put(ipBan('1.2.3.4', clock.now()))
  clock.advance(999)
  t.equal(await cache.find(subject, clock.now()), null, 'a "no ban" answer is reused within the TTL')
  t.equal(finds.count, 1)
  clock.advance(1)
  t.match(await cache.find(subject, clock.now()), { subject }, 'after the TTL the store is asked again')
  t.equal(finds.count, 2)
  t.match(await cache.find(subject, clock.now()), { subject })
  t.equal(finds.count, 2, 'the ban is reused as well')
  t.equal(await cache.find({ kind: 'user', id: '1.2.3.4' }, clock.now()), null, 'kinds are separate keys')
  t.equal(finds.count, 3)

  cache.forget(subject)
  await cache.find(subject, clock.now())
  t.equal(finds.count, 4, 'forget drops the entry')
})

t.test('banCache: a cached ban never outlives its expiresAt', async t => {
  const { store, inner, finds } = countingStore()
  const clock = manualClock()
  const cache = banCache(store, 1000)
  const subject: BanSubject = { kind: 'user', id: 'u1' }
  await inner.put({ subject, reason: 'operator', createdAt: clock.now(), expiresAt: new Date(clock.ms() + 300) })
  t.ok(await cache.find(subject, clock.now()))
  clock.advance(299)
  t.ok(await cache.find(subject, clock.now()), 'still banned at 299 ms')
  t.equal(finds.count, 1)
  clock.advance(1)
  t.equal(await cache.find(subject, clock.now()), null, 'not a millisecond past its end, although the TTL is 1 s')
})

t.test('banCache: a store that pushes changes invalidates at once; TTL 0 caches nothing', async t => {
  const { store, inner, finds, listeners } = countingStore()
  const clock = manualClock()
  const cache = banCache(store, 60_000)
  const subject: BanSubject = { kind: 'ip', id: '5.6.7.8' }
  t.equal(listeners.size, 1, 'the cache listens')
  t.equal(await cache.find(subject, clock.now()), null)
  await inner.put(ipBan('5.6.7.8', clock.now()))
  t.equal(await cache.find(subject, clock.now()), null, 'stale without a push')
  for (const listener of listeners) listener(subject)
  t.ok(await cache.find(subject, clock.now()), 'a push for the subject drops its entry')
  await inner.lift(subject)
  for (const listener of listeners) listener({ kind: 'ip', id: 'another' })
  t.ok(await cache.find(subject, clock.now()), 'a push about someone else changes nothing')
  for (const listener of listeners) listener(subject)
  t.equal(await cache.find(subject, clock.now()), null, 'a lift pushed is seen at once')
  cache.stop()
  t.equal(listeners.size, 0, 'stop unsubscribes')

  const uncached = banCache(store, 0)
  const before = finds.count
  await uncached.find(subject, clock.now())
  await uncached.find(subject, clock.now())
  t.equal(finds.count, before + 2, 'TTL 0: every lookup reaches the store')
})

// ---------------------------------------------------------------------------------------------
// user-agent.ts
// ---------------------------------------------------------------------------------------------

t.test('isBrowser: browser engines and brands yes; tools, bots and nothing no', async t => {
  const browsers = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0',
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko',
    'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)'
  ]
  for (const ua of browsers) t.equal(isBrowser(ua), true, ua.slice(0, 80))
  const others: Array<string | undefined> = [
    undefined,
    '',
    'curl/8.5.0',
    'python-requests/2.31.0',
    'PostmanRuntime/7.37.0',
    'Go-http-client/1.1',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    'undici',
    'lightMyRequest',
    'Mozilla/5.0',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'MyChromeExtensionHelper',
    'Firefoxy/1.0',
    `${'x'.repeat(600)} Chrome/124.0`
  ]
  for (const ua of others) t.equal(isBrowser(ua), false, JSON.stringify(ua?.slice(0, 60)))
})

// ---------------------------------------------------------------------------------------------
// moderation-service.ts: the scoring rule the routes rely on
// ---------------------------------------------------------------------------------------------

function serviceRig (overrides: Partial<ModerationConfig> = {}): {
  service: ReturnType<typeof moderationService>, store: BanStore, clock: ReturnType<typeof manualClock>, ended: string[], seen: Array<{ name: AuthEventName, payload: AuthEvents[AuthEventName] }>
} {
  const clock = manualClock()
  const store = memoryBanStore()
  const events = new AuthEventEmitter(error => { throw error })
  const seen: Array<{ name: AuthEventName, payload: AuthEvents[AuthEventName] }> = []
  events.onAny((name, payload) => { seen.push({ name, payload }) })
  const ended: string[] = []
  const user = { id: 'u1', email: 'alice@example.test' } as User
  const service = moderationService({
    store,
    config: { ...resolveModeration({}), ...overrides },
    events,
    now: clock.now,
    findUserByEmail: async email => email === user.email ? user : null,
    endSessions: async userId => { ended.push(userId) }
  })
  return { service, store, clock, ended, seen }
}

t.test('moderationService: a ban each time a score crosses a multiple of banInterval', async t => {
  const { service, clock, ended, seen } = serviceRig()
  const offender = { ip: '2001:db8:1:2::77', userId: 'u1' }
  await service.logViolation(offender, 'logins', 15, noContext)
  t.same(seen.filter(e => e.name === 'ban.created'), [], '15 < 20')
  await service.logViolation(offender, 'logins', 15, noContext)
  const bans = seen.filter(e => e.name === 'ban.created').map(e => e.payload as AuthEvents['ban.created'])
  t.match(bans, [{ subject: { kind: 'ip', id: '2001:db8:1:2::/64' }, reason: 'logins', by: 'moderation' }, { subject: { kind: 'user', id: 'u1' } }], '30 crosses 20: the /64 and the user')
  t.same(ended, ['u1'], 'the user\'s sessions end')
  t.ok(await service.banOf({ ip: '2001:db8:1:2::1', userId: null }), 'the whole /64 is banned')
  seen.length = 0
  await service.logViolation(offender, 'logins', 5, noContext)
  t.same(seen.filter(e => e.name === 'ban.created'), [], '35: no multiple crossed')
  await service.logViolation(offender, 'logins', 5, noContext)
  t.equal(seen.filter(e => e.name === 'ban.created').length, 2, '40 crosses again')
  seen.length = 0
  await service.logViolation({ ip: '198.51.100.1', userId: null }, 'refresh', 19, noContext)
  await service.logViolation({ ip: '198.51.100.1', userId: null }, 'logins', 1, noContext)
  t.same(seen.filter(e => e.name === 'ban.created'), [], 'scores are per type')
  clock.advance(DAY)
  await service.logViolation({ ip: '198.51.100.1', userId: null }, 'refresh', 1, noContext)
  t.match(seen.filter(e => e.name === 'moderation.violation').at(-1)?.payload, { total: 1 }, 'a score is forgotten violationTtl after its last violation')
})

t.test('moderationService: soft ban, banViolations off, dry run', async t => {
  const soft = serviceRig({ banDuration: 0 })
  await soft.service.logViolation({ ip: '198.51.100.2', userId: 'u1' }, 'logins', 20, noContext)
  t.same(soft.ended, ['u1'], 'soft ban: the sessions end')
  t.same(await soft.store.list(soft.clock.now()), [], 'soft ban: nothing recorded')
  t.ok(soft.seen.filter(e => e.name === 'ban.created').every(e => (e.payload as AuthEvents['ban.created']).expiresAt === null))
  t.equal(await soft.service.banUser('alice@example.test', undefined, noContext), null, 'an operator soft ban returns null')

  const off = serviceRig({ banViolations: false })
  await off.service.logViolation({ ip: '198.51.100.3', userId: 'u1' }, 'logins', 40, noContext)
  t.same(off.seen.filter(e => e.name === 'ban.created'), [], 'no bans')
  t.equal(off.seen.filter(e => e.name === 'moderation.violation').length, 2, 'but scores are kept')
  await off.store.put(ipBan('198.51.100.3', off.clock.now()))
  t.equal(await off.service.banOf({ ip: '198.51.100.3', userId: null }), null, 'and existing bans are not enforced')

  const dry = serviceRig({ dryRun: true })
  await dry.service.logViolation({ ip: '198.51.100.4', userId: 'u1' }, 'logins', 20, noContext)
  t.ok(dry.seen.filter(e => e.name === 'ban.created').every(e => (e.payload as AuthEvents['ban.created']).dryRun), 'dry run: reported as such')
  t.equal(dry.seen.filter(e => e.name === 'ban.created').length, 2)
  t.same(dry.ended, [], 'no session ended')
  t.same(await dry.store.list(dry.clock.now()), [], 'nothing stored')
})
