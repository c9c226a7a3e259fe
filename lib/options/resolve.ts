import { canonicalDomain } from '../accounts/email.ts'
import { configError } from '../errors.ts'
import { coversEveryAddress, isForgeable, type TrustProxy } from '../moderation/client-address.ts'
import { resolveSocialLogin } from '../identities/social-config.ts'
import { resolveOpenId } from '../identities/openid-config.ts'
import { resolveModeration } from '../moderation/config.ts'
import type { AuthConfig, AuthOptions, CoreConfig } from './types.ts'
import { fieldOf, httpUrl, integer, objectOf, optionalBoolean, routePrefix, text } from './validate.ts'

/** The two sample secrets printed in LibreChat's user guide: never acceptable in production. */
export const SAMPLE_SECRETS: readonly string[] = [
  '16f8c0ef4a5d391b26034086c628469d3f9f497f08163ab9b40137092f2909ef',
  'eaa5191f2914e30b9387fd84e254e4ba6fc51b4654968a9b0803b456a54b8418'
]

const MIN_SECRET_BYTES = 32
const DAY = 86_400_000

export interface ResolvedOptions<C = AuthConfig> {
  config: C
  /** Risky but allowed settings, to log at startup. */
  warnings: string[]
}

/**
 * Validates the plugin's options and applies defaults. Throws FST_LCAUTH_CONFIG_INVALID naming the
 * option at fault. Reads only the known fields, so a poisoned options object cannot smuggle anything in.
 */
export function resolveOptions (options: AuthOptions, defaultProduction: boolean): ResolvedOptions {
  const production = optionalBoolean(fieldOf(options, 'production'), 'production') ?? defaultProduction
  const warnings: string[] = []
  const risky = riskyIn(production, warnings)
  const jwtSecret = requiredSecret(options, 'jwtSecret')
  const jwtRefreshSecret = requiredSecret(options, 'jwtRefreshSecret')
  checkSecrets(jwtSecret, jwtRefreshSecret, risky)
  const domainServer = httpUrl(fieldOf(options, 'domainServer'), 'domainServer')
  return { warnings, config: { ...resolveSettings(options, domainServer, production, risky, warnings, [jwtSecret, jwtRefreshSecret]), jwtSecret, jwtRefreshSecret } }
}

/**
 * The same validation for an operator's process (the CLI): the secrets may be missing (it issues no
 * token) and so may `domainServer`, which then only stands behind links the CLI refuses to print.
 * Never in production mode: the operator is not serving anyone.
 */
export function resolveOperatorOptions (options: AuthOptions): ResolvedOptions<CoreConfig> {
  const warnings: string[] = []
  const risky = riskyIn(false, warnings)
  const secret = (name: string): string | null => fieldOf(options, name) === undefined ? null : requiredSecret(options, name)
  const domain = fieldOf(options, 'domainServer')
  const domainServer = domain === undefined ? 'http://localhost' : httpUrl(domain, 'domainServer')
  const jwtSecret = secret('jwtSecret')
  const jwtRefreshSecret = secret('jwtRefreshSecret')
  const secrets = [jwtSecret, jwtRefreshSecret].filter(s => s !== null)
  return { warnings, config: { ...resolveSettings(options, domainServer, false, risky, warnings, secrets), jwtSecret, jwtRefreshSecret } }
}

type Risky = (option: string, problem: string) => void

/** In production a risky setting is an error; elsewhere a warning. */
function riskyIn (production: boolean, warnings: string[]): Risky {
  return (option, problem) => {
    if (production) throw configError(option, `${problem} (refused when NODE_ENV=production)`)
    warnings.push(`${option} ${problem}`)
  }
}

function requiredSecret (options: AuthOptions, name: string): string {
  const value = fieldOf(options, name)
  if (typeof value !== 'string' || value === '') throw configError(name, 'is required (a random string of at least 32 bytes)')
  return value
}

function checkSecrets (jwtSecret: string, jwtRefreshSecret: string, risky: Risky): void {
  for (const [name, secret] of [['jwtSecret', jwtSecret], ['jwtRefreshSecret', jwtRefreshSecret]] as const) {
    if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) risky(name, `is shorter than ${MIN_SECRET_BYTES} bytes`)
    if (SAMPLE_SECRETS.includes(secret)) risky(name, 'is a sample value from the LibreChat guide')
  }
  if (jwtSecret === jwtRefreshSecret) risky('jwtRefreshSecret', 'must differ from jwtSecret')
}

/** Every setting but the secrets. */
/** Every setting but the secrets; `secrets` are the JWT secrets given, which no other secret may repeat. */
function resolveSettings (options: AuthOptions, domainServer: string, production: boolean, risky: Risky, warnings: string[], secrets: readonly string[]): Omit<AuthConfig, 'jwtSecret' | 'jwtRefreshSecret'> {
  const get = (name: string): unknown => fieldOf(options, name)
  const bool = (name: string, fallback: boolean): boolean => optionalBoolean(get(name), name) ?? fallback
  const int = (name: string, fallback: number, min: number, max: number): number => integer(get(name), name, fallback, min, max)

  const domainClient = get('domainClient') === undefined ? domainServer : httpUrl(get('domainClient'), 'domainClient')
  const minPasswordLength = int('minPasswordLength', 8, 1, 128)
  if (minPasswordLength < 8) risky('minPasswordLength', 'is below 8')
  const bcryptRounds = int('bcryptRounds', 12, 4, 31)
  if (bcryptRounds < 10) risky('bcryptRounds', 'is below 10')
  const allowUnsafePasswordReset = bool('allowUnsafePasswordReset', false)
  if (allowUnsafePasswordReset) risky('allowUnsafePasswordReset', 'lets anyone who knows an email address reset its password')
  const sessionCookieSecure = bool('sessionCookieSecure', domainServer.startsWith('https:'))
  if (!sessionCookieSecure) warnings.push('sessionCookieSecure is false: the refresh cookie is sent over plain http')
  const trustProxy = get('trustProxy') as TrustProxy | undefined
  if (isForgeable(trustProxy)) risky('trustProxy', 'is a hop count or true: every client can choose its own address through X-Forwarded-For (give the proxies\' addresses or CIDR ranges)')
  if (coversEveryAddress(trustProxy)) risky('trustProxy', 'covers every address (0.0.0.0/0 or ::/0, whole or in pieces): every client can choose its own address through X-Forwarded-For (give the proxies\' addresses or CIDR ranges)')
  const prefixes = objectOf(get('routePrefixes'), 'routePrefixes')
  const allowSocialLogin = bool('allowSocialLogin', false)
  const refreshTokenExpiry = int('refreshTokenExpiry', 7 * DAY, 60_000, 3650 * DAY)
  const sessionMaxAge = int('sessionMaxAge', 30 * DAY, 60_000, 3650 * DAY)
  // LibreChat has no absolute cap: a long REFRESH_TOKEN_EXPIRY there means sessions that long.
  if (refreshTokenExpiry > sessionMaxAge) {
    warnings.push(`refreshTokenExpiry (REFRESH_TOKEN_EXPIRY, ${Math.round(refreshTokenExpiry / DAY)} days) is longer than sessionMaxAge (SESSION_MAX_AGE, ${Math.round(sessionMaxAge / DAY)} days): every session ends at sessionMaxAge however recently it was used; raise SESSION_MAX_AGE to keep LibreChat's lifetime`)
  }
  const socialLogin = resolveSocialLogin(get('socialLogin'), { allowSocialLogin, domainServer, risky, warnings })
  const openid = resolveOpenId(get('openid'), { allowSocialLogin, domainServer, domainClient, secrets, risky, warnings })
  if (allowSocialLogin && socialLogin.providers.length === 0 && openid === null) {
    warnings.push('allowSocialLogin is true but no provider is configured (set a provider\'s client id and secret, such as GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or OPENID_ISSUER and OPENID_CLIENT_ID)')
  }

  return {
    domainServer,
    domainClient,
    allowEmailLogin: bool('allowEmailLogin', true),
    allowRegistration: bool('allowRegistration', true),
    allowSocialLogin,
    allowSocialRegistration: bool('allowSocialRegistration', false),
    socialLogin,
    openid,
    allowAccountDeletion: bool('allowAccountDeletion', true),
    allowPasswordReset: bool('allowPasswordReset', true),
    allowUnsafePasswordReset,
    allowUnverifiedEmailLogin: bool('allowUnverifiedEmailLogin', false),
    resetPasswordExpiry: int('resetPasswordExpiry', 15 * 60_000, 60_000, DAY),
    emailVerificationExpiry: int('emailVerificationExpiry', DAY, 60_000, 30 * DAY),
    mailPerRecipient: mailLimit(get('mailPerRecipient')),
    allowedEmailDomains: emailDomains(get('allowedEmailDomains')),
    sessionExpiry: int('sessionExpiry', 15 * 60_000, 1000, 30 * DAY),
    refreshTokenExpiry,
    sessionMaxAge,
    refreshReuseInterval: int('refreshReuseInterval', 10_000, 0, 5 * 60_000),
    sessionMaxPerUser: int('sessionMaxPerUser', 20, 1, 1000),
    revocationPollInterval: int('revocationPollInterval', 500, 10, 1000),
    databaseTimeout: int('databaseTimeout', 3000, 100, 60_000),
    hashConcurrency: int('hashConcurrency', 4, 1, 256),
    hashMaxWait: int('hashMaxWait', 5000, 0, 60_000),
    purgeInterval: int('purgeInterval', 3_600_000, 0, 7 * DAY),
    minPasswordLength,
    bcryptRounds,
    sessionCookieSecure,
    appTitle: text(get('appTitle'), 'appTitle', 'LibreChat'),
    production,
    authPrefix: routePrefix(fieldOf(prefixes, 'auth'), 'routePrefixes.auth', '/api/auth'),
    userPrefix: routePrefix(fieldOf(prefixes, 'user'), 'routePrefixes.user', '/api/user'),
    bodyLimit: int('bodyLimit', 16 * 1024, 1024, 1024 * 1024),
    logEvents: bool('logEvents', true),
    moderation: resolveModeration(get('moderation')),
    trustProxy
  }
}

function mailLimit (value: unknown): { max: number, windowMs: number } {
  if (value === undefined) return { max: 3, windowMs: 3_600_000 }
  const limit = value as { max?: unknown, windowMs?: unknown }
  if (typeof value !== 'object' || value === null || !Number.isInteger(limit.max) || (limit.max as number) < 1 || !Number.isInteger(limit.windowMs) || (limit.windowMs as number) < 1000) {
    throw configError('mailPerRecipient', 'must be { max: a whole number ≥ 1, windowMs: ≥ 1000 }')
  }
  return { max: limit.max as number, windowMs: limit.windowMs as number }
}

function emailDomains (value: unknown): readonly string[] | null {
  if (value === undefined) return null
  const domains = Array.isArray(value) ? value.map(d => typeof d === 'string' ? canonicalDomain(d.trim()) : null) : []
  if (domains.length === 0 || domains.includes(null)) {
    throw configError('allowedEmailDomains', 'must be a non-empty list of domains such as example.com')
  }
  return domains as string[]
}
