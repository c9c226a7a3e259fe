import t from 'tap'
import { resolveOptions, SAMPLE_SECRETS } from '../../lib/options/resolve.ts'
import type { AuthOptions } from '../../lib/options/types.ts'
import { baseOptions } from '../helpers/app.ts'

const strong = 'a-strong-random-access-secret-of-more-than-32-bytes'
const strongRefresh = 'another-strong-random-refresh-secret-over-32-bytes'
const base: AuthOptions = { jwtSecret: strong, jwtRefreshSecret: strongRefresh, domainServer: 'https://chat.example.com' }

const refusal = (options: Partial<AuthOptions>, production = true): string => {
  try {
    resolveOptions({ ...base, ...options } as AuthOptions, production)
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}

t.test('defaults follow the user guide and the design', async t => {
  const { config, warnings } = resolveOptions(base, false)
  t.match(config, {
    domainClient: 'https://chat.example.com',
    allowEmailLogin: true,
    allowRegistration: true,
    allowSocialLogin: false,
    allowSocialRegistration: false,
    allowedEmailDomains: null,
    sessionExpiry: 900_000,
    refreshTokenExpiry: 604_800_000,
    sessionMaxAge: 30 * 86_400_000,
    refreshReuseInterval: 10_000,
    sessionMaxPerUser: 20,
    revocationPollInterval: 500,
    databaseTimeout: 3000,
    hashConcurrency: 4,
    hashMaxWait: 5000,
    minPasswordLength: 8,
    bcryptRounds: 12,
    sessionCookieSecure: true,
    appTitle: 'LibreChat',
    production: false,
    authPrefix: '/api/auth',
    userPrefix: '/api/user',
    bodyLimit: 16384,
    logEvents: true
  })
  t.same(warnings, [])
})

t.test('CFG-01: missing secrets are refused everywhere, naming the option', async t => {
  t.match(refusal({ jwtSecret: '' }, false), /jwtSecret is required/)
  t.match(refusal({ jwtRefreshSecret: undefined as unknown as string }, false), /jwtRefreshSecret is required/)
  t.match(refusal({ jwtSecret: 42 as unknown as string }, false), /jwtSecret is required/)
})

t.test('CFG-01: the closed list of production refusals', async t => {
  t.match(refusal({ jwtSecret: 'short' }), /jwtSecret is shorter than 32 bytes/)
  t.match(refusal({ jwtRefreshSecret: 'x'.repeat(31) }), /jwtRefreshSecret is shorter than 32 bytes/)
  t.match(refusal({ jwtSecret: SAMPLE_SECRETS[0] as string }), /jwtSecret is a sample value/)
  t.match(refusal({ jwtRefreshSecret: SAMPLE_SECRETS[1] as string }), /jwtRefreshSecret is a sample value/)
  t.match(refusal({ jwtRefreshSecret: strong }), /jwtRefreshSecret must differ from jwtSecret/)
  t.match(refusal({ bcryptRounds: 9 }), /bcryptRounds is below 10/)
  t.match(refusal({ minPasswordLength: 7 }), /minPasswordLength is below 8/)
  for (const message of ['short', 'sample', 'differ', 'below']) t.match(refusal({ jwtSecret: 'short' }), /NODE_ENV=production/, message)
})

t.test('secrets are measured in UTF-8 bytes of the raw string', async t => {
  // 11 three-byte characters = 33 bytes: long enough, although only 11 characters.
  t.equal(refusal({ jwtSecret: '€'.repeat(11) }), 'accepted')
  // 31 ASCII characters of hex: never hex-decoded, so 31 bytes.
  t.match(refusal({ jwtSecret: 'a'.repeat(31) }), /shorter than 32 bytes/)
})

t.test('outside production the same settings only warn', async t => {
  const { warnings } = resolveOptions({ ...base, jwtSecret: SAMPLE_SECRETS[0] as string, jwtRefreshSecret: SAMPLE_SECRETS[0] as string, bcryptRounds: 4, minPasswordLength: 4, domainServer: 'http://localhost:3080' }, false)
  t.match(warnings, [/jwtSecret is a sample value/, /jwtRefreshSecret is a sample value/, /must differ/, /minPasswordLength is below 8/, /bcryptRounds is below 10/, /sessionCookieSecure is false/])
})

t.test('the production option wins over the environment default', async t => {
  t.equal(resolveOptions({ ...base, production: false, jwtSecret: 'short' }, true).config.production, false)
  t.match(refusal({ production: true, jwtSecret: 'short' }, false), /refused when NODE_ENV=production/)
  t.match(refusal({ production: 'yes' as unknown as boolean }), /production must be true or false/)
})

t.test('every bad value names its option', async t => {
  const cases: Array<[Partial<AuthOptions>, RegExp]> = [
    [{ domainServer: 'not a url' }, /domainServer must be an absolute http\(s\) URL/],
    [{ domainServer: 'ftp://example.com' }, /domainServer must use http or https/],
    [{ domainClient: 'javascript:alert(1)' }, /domainClient must use http or https/],
    [{ allowRegistration: 'true' as unknown as boolean }, /allowRegistration must be true or false/],
    [{ sessionExpiry: 10 }, /sessionExpiry must be an integer from 1000/],
    [{ refreshTokenExpiry: 1.5 }, /refreshTokenExpiry must be an integer/],
    [{ sessionMaxAge: '30d' as unknown as number }, /sessionMaxAge must be an integer/],
    [{ refreshReuseInterval: -1 }, /refreshReuseInterval must be an integer from 0/],
    [{ bcryptRounds: 32 }, /bcryptRounds must be an integer from 4 to 31/],
    [{ minPasswordLength: 129 }, /minPasswordLength must be an integer from 1 to 128/],
    [{ appTitle: '  ' }, /appTitle must be a non-empty string/],
    [{ appTitle: 5 as unknown as string }, /appTitle must be a non-empty string/],
    [{ sessionMaxPerUser: 0 }, /sessionMaxPerUser must be an integer from 1/],
    [{ revocationPollInterval: 5000 }, /revocationPollInterval must be an integer from 10 to 1000/],
    [{ databaseTimeout: 50 }, /databaseTimeout must be an integer from 100 to 60000/],
    [{ databaseTimeout: 60_001 }, /databaseTimeout must be an integer from 100 to 60000/],
    [{ hashConcurrency: 0 }, /hashConcurrency must be an integer/],
    [{ hashMaxWait: -1 }, /hashMaxWait must be an integer/],
    [{ allowedEmailDomains: [] }, /allowedEmailDomains must be a non-empty list/],
    [{ allowedEmailDomains: ['example.com', 'not a domain'] }, /allowedEmailDomains must be/],
    [{ allowedEmailDomains: 'example.com' as unknown as string[] }, /allowedEmailDomains must be/],
    [{ allowedEmailDomains: [5] as unknown as string[] }, /allowedEmailDomains must be/],
    [{ routePrefixes: { auth: 'api/auth' } }, /routePrefixes.auth must be a path/],
    [{ routePrefixes: { user: '/api/../user/' } }, /routePrefixes.user must be a path/],
    [{ bodyLimit: 10 }, /bodyLimit must be an integer/],
    [{ logEvents: 'no' as unknown as boolean }, /logEvents must be true or false/],
    [{ mailPerRecipient: { max: 0, windowMs: 60_000 } }, /mailPerRecipient must be/],
    [{ mailPerRecipient: { max: 2, windowMs: 10 } }, /mailPerRecipient must be/],
    [{ mailPerRecipient: 'lots' as unknown as { max: number, windowMs: number } }, /mailPerRecipient must be/],
    [{ mailPerRecipient: null as unknown as { max: number, windowMs: number } }, /mailPerRecipient must be/],
    [{ resetPasswordExpiry: 10 }, /resetPasswordExpiry must be an integer/]
  ]
  for (const [options, expected] of cases) t.match(refusal(options, false), expected, JSON.stringify(options))
})

t.test('URLs, domains and prefixes are normalised', async t => {
  const { config } = resolveOptions({
    ...base,
    domainServer: 'https://Chat.Example.com:443/app/',
    domainClient: 'http://localhost:3090',
    allowedEmailDomains: [' Example.COM ', 'bücher.example'],
    routePrefixes: { auth: '/auth', user: '/me' },
    sessionCookieSecure: false,
    appTitle: 'My Chat'
  }, false)
  t.equal(config.appTitle, 'My Chat')
  t.equal(config.domainServer, 'https://chat.example.com/app')
  t.equal(config.domainClient, 'http://localhost:3090')
  t.same(config.allowedEmailDomains, ['example.com', 'xn--bcher-kva.example'])
  t.equal(config.authPrefix, '/auth')
  t.equal(config.userPrefix, '/me')
  t.equal(config.sessionCookieSecure, false)
})

t.test('INP-03: a poisoned options object smuggles nothing in', async t => {
  const poisoned = JSON.parse(`{"jwtSecret":"${strong}","jwtRefreshSecret":"${strongRefresh}","domainServer":"https://a.example","__proto__":{"allowRegistration":false,"production":true}}`) as AuthOptions
  const { config } = resolveOptions(poisoned, false)
  t.equal(config.allowRegistration, true)
  t.equal(config.production, false)
  t.equal(({} as Record<string, unknown>).allowRegistration, undefined)
})

t.test('a refresh lifetime longer than the absolute cap is a warning: LibreChat had no cap', async t => {
  const DAY = 86_400_000
  const about = (options: Partial<AuthOptions>): string[] => resolveOptions({ ...baseOptions, ...options }, false).warnings.filter(w => w.startsWith('refreshTokenExpiry'))
  t.match(about({ refreshTokenExpiry: 90 * DAY }), [/refreshTokenExpiry \(REFRESH_TOKEN_EXPIRY, 90 days\) is longer than sessionMaxAge \(SESSION_MAX_AGE, 30 days\)/])
  t.same(about({ refreshTokenExpiry: 90 * DAY, sessionMaxAge: 90 * DAY }), [])
})
