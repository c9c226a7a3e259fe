import { canonicalDomain } from './accounts/email.ts'
import type { Clock } from './clock.ts'
import { configError } from './errors.ts'
import type { BanStore } from './ports/ban-store.ts'
import { proxyTrust, type TrustProxy } from './moderation/client-address.ts'
import { type ModerationConfig, type ModerationOptions, resolveModeration } from './moderation/config.ts'
import type { SmtpMailerOptions } from './adapters/nodemailer/options.ts'
import type { MailKind, MailTemplate } from './mail/templates.ts'
import type { Mailer } from './ports/mailer.ts'
import type { Storage, User } from './ports/storage.ts'
import type { PasswordHasher } from './passwords/hasher.ts'

/**
 * The plugin's options. Every field but the two secrets and `domainServer` has a safe default; those
 * three are required, whether they come from here or from `optionsFromEnv`, and registration fails
 * naming the one that is missing. (They are optional in the type so that `{ ...optionsFromEnv(env) }`
 * type-checks.)
 */
export interface AuthOptions {
  /** Required. HMAC key of access tokens (`JWT_SECRET`). At least 32 bytes in production. */
  jwtSecret?: string
  /** Required. HMAC key of refresh-token hashes and event identifiers (`JWT_REFRESH_SECRET`). Must differ from `jwtSecret` in production. */
  jwtRefreshSecret?: string
  /** Required. Public origin of the API (`DOMAIN_SERVER`): the access tokens' `iss`, and an allowed request origin. */
  domainServer?: string
  /** Public origin of the web client (`DOMAIN_CLIENT`); defaults to `domainServer`. */
  domainClient?: string
  /** `ALLOW_EMAIL_LOGIN`, default true. */
  allowEmailLogin?: boolean
  /** `ALLOW_REGISTRATION`, default true. */
  allowRegistration?: boolean
  /** `ALLOW_SOCIAL_LOGIN`, default false. */
  allowSocialLogin?: boolean
  /** `ALLOW_SOCIAL_REGISTRATION`, default false. */
  allowSocialRegistration?: boolean
  /** `ALLOW_ACCOUNT_DELETION`, default true: users may delete their own account. */
  allowAccountDeletion?: boolean
  /** `ALLOWED_EMAIL_DOMAINS`: when set, only these email domains may register (exact match, case-insensitive). */
  allowedEmailDomains?: readonly string[]
  /** Access-token lifetime in ms (`SESSION_EXPIRY`), default 15 minutes. */
  sessionExpiry?: number
  /** Sliding refresh-token lifetime in ms (`REFRESH_TOKEN_EXPIRY`), default 7 days. */
  refreshTokenExpiry?: number
  /** Absolute session lifetime in ms (`SESSION_MAX_AGE`), default 30 days. */
  sessionMaxAge?: number
  /** How long the previous refresh token counts as a benign two-tab race, in ms (`REFRESH_REUSE_INTERVAL`), default 10 s. */
  refreshReuseInterval?: number
  /** Live sessions per user (`SESSION_MAX_PER_USER`), default 20; a new login ends the oldest beyond it. */
  sessionMaxPerUser?: number
  /** How often each instance polls storage for revocations made elsewhere, ms; default 500, at most 1000. */
  revocationPollInterval?: number
  /**
   * Password hashes running at once (`PASSWORD_HASH_CONCURRENCY`), default 4: the size of libuv's thread pool,
   * where bcrypt runs. Fewer leaves cores idle between jobs (measured: 0.75 of a bare bcrypt route with 2 on
   * 2 cores, 0.94 with 4); more cannot run at once anyway.
   */
  hashConcurrency?: number
  /** Longest expected queue wait before a hash job is refused with 503 and Retry-After (`PASSWORD_HASH_MAX_WAIT`), ms; default 5000. */
  hashMaxWait?: number
  /** How often expired sessions and spent one-time tokens are deleted, ms; default one hour, 0 never. */
  purgeInterval?: number
  /** `MIN_PASSWORD_LENGTH`, default 8 (at least 8 in production). */
  minPasswordLength?: number
  /** bcrypt cost (`BCRYPT_ROUNDS`), default 12 (at least 10 in production). */
  bcryptRounds?: number
  /** Secure refresh cookie (`SESSION_COOKIE_SECURE`); default: true when `domainServer` is https. */
  sessionCookieSecure?: boolean
  /** `APP_TITLE`, default `LibreChat`. */
  appTitle?: string
  /** Production mode turns the risky settings listed in docs/security.md into errors. Default: `NODE_ENV === 'production'`. */
  production?: boolean
  /**
   * Where users and sessions live: a `Storage`, or `{ url }` naming one (`sqlite:path.db`, `postgres://…`;
   * what `DATABASE_URL` maps to), which the plugin opens, migrates unless `migrate: false`, and closes.
   * Default: in memory (lost on restart; a warning says so).
   */
  storage?: Storage | StorageDescriptor
  /**
   * Sends mail: a `Mailer`, or SMTP settings (what the `EMAIL_*` variables map to) for the bundled
   * nodemailer adapter, which the plugin loads, checks at start and closes. Password reset by mail and
   * email verification need one.
   */
  mailer?: Mailer | SmtpMailerOptions
  /** `ALLOW_PASSWORD_RESET`, default true; effective only with a mailer (or the unsafe mode). */
  allowPasswordReset?: boolean
  /**
   * `ALLOW_UNSAFE_PASSWORD_RESET`, default false: without a mailer, LibreChat's unsecured reset (the link
   * in the response: anyone who knows an email can take the account). Refused in production.
   */
  allowUnsafePasswordReset?: boolean
  /** `ALLOW_UNVERIFIED_EMAIL_LOGIN`, default false: with a mailer, login requires a verified email unless true. */
  allowUnverifiedEmailLogin?: boolean
  /** Reset links live this long, ms (`RESET_PASSWORD_EXPIRY`), default 15 minutes. */
  resetPasswordExpiry?: number
  /** Verification links live this long, ms (`EMAIL_VERIFICATION_EXPIRY`), default 24 hours. */
  emailVerificationExpiry?: number
  /** Replace the text of any mail: a function of its variables, or template strings. */
  mailTemplates?: Partial<Record<MailKind, MailTemplate>>
  /** At most `max` mails of one kind to one recipient per `windowMs` (default 3 per hour); more are dropped silently. */
  mailPerRecipient?: { max: number, windowMs: number }
  /**
   * Where bans, violation scores and limiter counters live: a `BanStore`, or `{ url: 'redis://…' }` for
   * the bundled Redis adapter (what `USE_REDIS`/`REDIS_URI`/`REDIS_KEY_PREFIX` map to), which the plugin
   * loads and closes. Default: the storage's own database when it has one (SQL), else memory.
   */
  banStore?: BanStore | BanStoreDescriptor
  /** Limits, violation scores and bans (LibreChat's moderation variables). */
  moderation?: ModerationOptions
  /**
   * Proxies whose X-Forwarded-For names the client (`TRUST_PROXY`): addresses and CIDR ranges, or the
   * names `loopback`, `linklocal`, `uniquelocal`. Default: none, the socket peer is the client. A hop
   * count or `true` lets clients pick their own address: refused in production.
   */
  trustProxy?: TrustProxy
  /** Replaces the bcrypt hasher (tests count its calls). */
  hasher?: PasswordHasher
  /** Extra access-token claims; they can never override the standard ones. */
  accessTokenClaims?: (user: User) => Record<string, unknown>
  /** Route prefixes: `auth` (default `/api/auth`) and `user` (default `/api/user`). */
  routePrefixes?: { auth?: string, user?: string }
  /** Body limit of the plugin's routes in bytes, default 16 KiB. */
  bodyLimit?: number
  /** Where services read the time. */
  now?: Clock
}

/** A Redis ban store named by URL (`redis://` or `rediss://`), opened by the plugin at registration. */
export interface BanStoreDescriptor {
  url: string
  /** Prefix of every key and channel, default `librechat-auth:`. */
  keyPrefix?: string
}

/** A storage named by URL, opened by the plugin at registration. */
export interface StorageDescriptor {
  url: string
  migrate?: boolean
}

/** Options after validation: every default applied. */
export interface AuthConfig {
  jwtSecret: string
  jwtRefreshSecret: string
  domainServer: string
  domainClient: string
  allowEmailLogin: boolean
  allowRegistration: boolean
  allowSocialLogin: boolean
  allowSocialRegistration: boolean
  allowAccountDeletion: boolean
  allowPasswordReset: boolean
  allowUnsafePasswordReset: boolean
  allowUnverifiedEmailLogin: boolean
  resetPasswordExpiry: number
  emailVerificationExpiry: number
  mailPerRecipient: { max: number, windowMs: number }
  allowedEmailDomains: readonly string[] | null
  sessionExpiry: number
  refreshTokenExpiry: number
  sessionMaxAge: number
  refreshReuseInterval: number
  sessionMaxPerUser: number
  revocationPollInterval: number
  hashConcurrency: number
  hashMaxWait: number
  purgeInterval: number
  minPasswordLength: number
  bcryptRounds: number
  sessionCookieSecure: boolean
  appTitle: string
  production: boolean
  authPrefix: string
  userPrefix: string
  bodyLimit: number
  moderation: ModerationConfig
  /** As given; `proxyTrust()` turns it into the client-address rule. */
  trustProxy: TrustProxy | undefined
}

/** The two sample secrets printed in LibreChat's user guide: never acceptable in production. */
export const SAMPLE_SECRETS: readonly string[] = [
  '16f8c0ef4a5d391b26034086c628469d3f9f497f08163ab9b40137092f2909ef',
  'eaa5191f2914e30b9387fd84e254e4ba6fc51b4654968a9b0803b456a54b8418'
]

const MIN_SECRET_BYTES = 32
const DAY = 86_400_000

export interface ResolvedOptions {
  config: AuthConfig
  /** Risky but allowed settings, to log at startup. */
  warnings: string[]
}

/**
 * Validates options and applies defaults. Throws FST_LCAUTH_CONFIG_INVALID naming the option at fault.
 * Reads only the known fields, so a poisoned options object cannot smuggle anything in.
 */
export function resolveOptions (options: AuthOptions, defaultProduction: boolean): ResolvedOptions {
  const warnings: string[] = []
  const production = optionalBoolean(options, 'production') ?? defaultProduction
  // In production a risky setting is an error; elsewhere a warning.
  const risky = (option: string, problem: string): void => {
    if (production) throw configError(option, `${problem} (refused when NODE_ENV=production)`)
    warnings.push(`${option} ${problem}`)
  }

  const jwtSecret = requiredSecret(options, 'jwtSecret')
  const jwtRefreshSecret = requiredSecret(options, 'jwtRefreshSecret')
  for (const name of ['jwtSecret', 'jwtRefreshSecret'] as const) {
    const secret = name === 'jwtSecret' ? jwtSecret : jwtRefreshSecret
    if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) risky(name, `is shorter than ${MIN_SECRET_BYTES} bytes`)
    if (SAMPLE_SECRETS.includes(secret)) risky(name, 'is a sample value from the LibreChat guide')
  }
  if (jwtSecret === jwtRefreshSecret) risky('jwtRefreshSecret', 'must differ from jwtSecret')

  const domainServer = origin(options, 'domainServer', true) as string
  const domainClient = origin(options, 'domainClient', false) ?? domainServer

  const minPasswordLength = integer(options, 'minPasswordLength', 8, 1, 128)
  if (minPasswordLength < 8) risky('minPasswordLength', 'is below 8')
  const bcryptRounds = integer(options, 'bcryptRounds', 12, 4, 31)
  if (bcryptRounds < 10) risky('bcryptRounds', 'is below 10')

  const sessionExpiry = integer(options, 'sessionExpiry', 15 * 60_000, 1000, 30 * DAY)
  const sessionMaxAge = integer(options, 'sessionMaxAge', 30 * DAY, 60_000, 3650 * DAY)
  const refreshTokenExpiry = integer(options, 'refreshTokenExpiry', 7 * DAY, 60_000, 3650 * DAY)
  const refreshReuseInterval = integer(options, 'refreshReuseInterval', 10_000, 0, 5 * 60_000)
  const allowUnsafePasswordReset = optionalBoolean(options, 'allowUnsafePasswordReset') ?? false
  if (allowUnsafePasswordReset) risky('allowUnsafePasswordReset', 'lets anyone who knows an email address reset its password')
  const sessionCookieSecure = optionalBoolean(options, 'sessionCookieSecure') ?? domainServer.startsWith('https:')
  if (!sessionCookieSecure) warnings.push('sessionCookieSecure is false: the refresh cookie is sent over plain http')

  const trustProxy = field(options, 'trustProxy') as TrustProxy | undefined
  if (proxyTrust(trustProxy).forgeable) risky('trustProxy', 'is a hop count or true: every client can choose its own address through X-Forwarded-For (give the proxies\' addresses or CIDR ranges)')
  const moderation = resolveModeration(field(options, 'moderation'))

  const prefixes = options.routePrefixes ?? {}
  return {
    warnings,
    config: {
      jwtSecret,
      jwtRefreshSecret,
      domainServer,
      domainClient,
      allowEmailLogin: optionalBoolean(options, 'allowEmailLogin') ?? true,
      allowRegistration: optionalBoolean(options, 'allowRegistration') ?? true,
      allowSocialLogin: optionalBoolean(options, 'allowSocialLogin') ?? false,
      allowSocialRegistration: optionalBoolean(options, 'allowSocialRegistration') ?? false,
      allowAccountDeletion: optionalBoolean(options, 'allowAccountDeletion') ?? true,
      allowPasswordReset: optionalBoolean(options, 'allowPasswordReset') ?? true,
      allowUnsafePasswordReset,
      allowUnverifiedEmailLogin: optionalBoolean(options, 'allowUnverifiedEmailLogin') ?? false,
      resetPasswordExpiry: integer(options, 'resetPasswordExpiry', 15 * 60_000, 60_000, DAY),
      emailVerificationExpiry: integer(options, 'emailVerificationExpiry', DAY, 60_000, 30 * DAY),
      mailPerRecipient: mailLimit(options),
      allowedEmailDomains: emailDomains(options),
      sessionExpiry,
      refreshTokenExpiry,
      sessionMaxAge,
      refreshReuseInterval,
      sessionMaxPerUser: integer(options, 'sessionMaxPerUser', 20, 1, 1000),
      revocationPollInterval: integer(options, 'revocationPollInterval', 500, 10, 1000),
      hashConcurrency: integer(options, 'hashConcurrency', 4, 1, 256),
      hashMaxWait: integer(options, 'hashMaxWait', 5000, 0, 60_000),
      purgeInterval: integer(options, 'purgeInterval', 3_600_000, 0, 7 * DAY),
      minPasswordLength,
      bcryptRounds,
      sessionCookieSecure,
      appTitle: text(options, 'appTitle', 'LibreChat'),
      production,
      authPrefix: prefix(prefixes.auth, 'routePrefixes.auth', '/api/auth'),
      userPrefix: prefix(prefixes.user, 'routePrefixes.user', '/api/user'),
      bodyLimit: integer(options, 'bodyLimit', 16 * 1024, 1024, 1024 * 1024),
      moderation,
      trustProxy
    }
  }
}

type Bag = Record<string, unknown>

function field (options: AuthOptions, name: string): unknown {
  return Object.hasOwn(options, name) ? (options as unknown as Bag)[name] : undefined
}

function requiredSecret (options: AuthOptions, name: string): string {
  const value = field(options, name)
  if (typeof value !== 'string' || value === '') throw configError(name, 'is required (a random string of at least 32 bytes)')
  return value
}

function optionalBoolean (options: AuthOptions, name: string): boolean | undefined {
  const value = field(options, name)
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw configError(name, 'must be true or false')
  return value
}

function integer (options: AuthOptions, name: string, fallback: number, min: number, max: number): number {
  const value = field(options, name)
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(name, `must be an integer from ${min} to ${max}`)
  }
  return value
}

function text (options: AuthOptions, name: string, fallback: string): string {
  const value = field(options, name)
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.trim() === '') throw configError(name, 'must be a non-empty string')
  return value
}

function origin (options: AuthOptions, name: string, required: boolean): string | undefined {
  const value = field(options, name)
  if (value === undefined && !required) return undefined
  if (typeof value !== 'string' || !URL.canParse(value)) throw configError(name, 'must be an absolute http(s) URL such as https://chat.example.com')
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError(name, 'must use http or https')
  // Links are built as `${domain}/path`, so keep any path but drop a trailing slash.
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}

function prefix (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) throw configError(name, 'must be a path such as /api/auth')
  return value
}

function mailLimit (options: AuthOptions): { max: number, windowMs: number } {
  const value = field(options, 'mailPerRecipient')
  if (value === undefined) return { max: 3, windowMs: 3_600_000 }
  const limit = value as { max?: unknown, windowMs?: unknown }
  if (typeof value !== 'object' || value === null || !Number.isInteger(limit.max) || (limit.max as number) < 1 || !Number.isInteger(limit.windowMs) || (limit.windowMs as number) < 1000) {
    throw configError('mailPerRecipient', 'must be { max: a whole number ≥ 1, windowMs: ≥ 1000 }')
  }
  return { max: limit.max as number, windowMs: limit.windowMs as number }
}

function emailDomains (options: AuthOptions): readonly string[] | null {
  const value = field(options, 'allowedEmailDomains')
  if (value === undefined) return null
  const domains = Array.isArray(value) ? value.map(d => typeof d === 'string' ? canonicalDomain(d.trim()) : null) : []
  if (domains.length === 0 || domains.includes(null)) {
    throw configError('allowedEmailDomains', 'must be a non-empty list of domains such as example.com')
  }
  return domains as string[]
}
