import { smtpOptionsFromEnv } from './adapters/nodemailer/options.ts'
import { parseDuration } from './duration.ts'
import { configError } from './errors.ts'
import type { TrustProxy } from './moderation/client-address.ts'
import type { LimitSetting, ModerationOptions } from './moderation/config.ts'
import { FALLBACK, LIMITERS, type LimiterName, SCORES, type ViolationType } from './moderation/limits.ts'
import type { AuthOptions } from './options.ts'

/** The environment as `process.env` or @fastify/env hands it over: strings, some unset. */
export type Env = Readonly<Record<string, string | undefined>>

const MS = 1
const MINUTE = 60_000

/** Every variable `optionsFromEnv` reads, with its unit or kind, as the docs list them. */
export const envVariables = {
  JWT_SECRET: 'secret',
  JWT_REFRESH_SECRET: 'secret',
  DOMAIN_SERVER: 'url',
  DOMAIN_CLIENT: 'url',
  ALLOW_EMAIL_LOGIN: 'boolean',
  ALLOW_REGISTRATION: 'boolean',
  ALLOW_SOCIAL_LOGIN: 'boolean',
  ALLOW_SOCIAL_REGISTRATION: 'boolean',
  ALLOW_ACCOUNT_DELETION: 'boolean',
  ALLOW_PASSWORD_RESET: 'boolean',
  ALLOW_UNSAFE_PASSWORD_RESET: 'boolean',
  ALLOW_UNVERIFIED_EMAIL_LOGIN: 'boolean',
  RESET_PASSWORD_EXPIRY: 'duration',
  EMAIL_VERIFICATION_EXPIRY: 'duration',
  EMAIL_SERVICE: 'text',
  EMAIL_HOST: 'text',
  EMAIL_PORT: 'integer',
  EMAIL_ENCRYPTION: 'text',
  EMAIL_ENCRYPTION_HOSTNAME: 'text',
  EMAIL_ALLOW_SELFSIGNED: 'text',
  EMAIL_USERNAME: 'text',
  EMAIL_PASSWORD: 'secret',
  EMAIL_FROM: 'text',
  EMAIL_FROM_NAME: 'text',
  ALLOWED_EMAIL_DOMAINS: 'list',
  SESSION_EXPIRY: 'duration',
  REFRESH_TOKEN_EXPIRY: 'duration',
  SESSION_MAX_AGE: 'duration',
  REFRESH_REUSE_INTERVAL: 'duration',
  SESSION_MAX_PER_USER: 'integer',
  PASSWORD_HASH_CONCURRENCY: 'integer',
  PASSWORD_HASH_MAX_WAIT: 'duration',
  MIN_PASSWORD_LENGTH: 'integer',
  BCRYPT_ROUNDS: 'integer',
  SESSION_COOKIE_SECURE: 'boolean',
  APP_TITLE: 'text',
  DATABASE_URL: 'url',
  NODE_ENV: 'text',
  BAN_VIOLATIONS: 'boolean',
  BAN_DURATION: 'duration',
  BAN_INTERVAL: 'integer',
  VIOLATION_TTL: 'duration',
  MODERATION_DRY_RUN: 'boolean',
  LOGIN_VIOLATION_SCORE: 'integer',
  REGISTRATION_VIOLATION_SCORE: 'integer',
  CONCURRENT_VIOLATION_SCORE: 'integer',
  MESSAGE_VIOLATION_SCORE: 'integer',
  NON_BROWSER_VIOLATION_SCORE: 'integer',
  REFRESH_VIOLATION_SCORE: 'integer',
  PASSWORD_CHANGE_VIOLATION_SCORE: 'integer',
  ACCOUNT_DELETION_VIOLATION_SCORE: 'integer',
  RESET_PASSWORD_VIOLATION_SCORE: 'integer',
  VERIFY_EMAIL_VIOLATION_SCORE: 'integer',
  LOGIN_MAX: 'integer',
  LOGIN_WINDOW: 'minutes',
  REGISTER_MAX: 'integer',
  REGISTER_WINDOW: 'minutes',
  REFRESH_MAX: 'integer',
  REFRESH_WINDOW: 'minutes',
  PASSWORD_CHANGE_MAX: 'integer',
  PASSWORD_CHANGE_WINDOW: 'minutes',
  ACCOUNT_DELETION_MAX: 'integer',
  ACCOUNT_DELETION_WINDOW: 'minutes',
  RESET_PASSWORD_MAX: 'integer',
  RESET_PASSWORD_WINDOW: 'minutes',
  RESET_PASSWORD_SUBMISSION_MAX: 'integer',
  RESET_PASSWORD_SUBMISSION_WINDOW: 'minutes',
  VERIFY_EMAIL_MAX: 'integer',
  VERIFY_EMAIL_WINDOW: 'minutes',
  VERIFY_EMAIL_SUBMISSION_MAX: 'integer',
  VERIFY_EMAIL_SUBMISSION_WINDOW: 'minutes',
  LOGIN_ACCOUNT_MAX: 'integer',
  LOGIN_ACCOUNT_WINDOW: 'minutes',
  LIMIT_MESSAGE_IP: 'boolean',
  MESSAGE_IP_MAX: 'integer',
  MESSAGE_IP_WINDOW: 'minutes',
  LIMIT_MESSAGE_USER: 'boolean',
  MESSAGE_USER_MAX: 'integer',
  MESSAGE_USER_WINDOW: 'minutes',
  LIMIT_CONCURRENT_MESSAGES: 'boolean',
  CONCURRENT_MESSAGE_MAX: 'integer',
  USE_REDIS: 'boolean',
  REDIS_URI: 'url',
  REDIS_KEY_PREFIX: 'text',
  TRUST_PROXY: 'list'
} as const

export type EnvVariable = keyof typeof envVariables

/**
 * A JSON schema for @fastify/env covering the same variables. Every field is a string, so that
 * parsing and its errors happen in one place: `optionsFromEnv`.
 */
export const envSchema: {
  type: 'object'
  properties: Record<EnvVariable, { type: 'string' }>
} = {
  type: 'object',
  properties: Object.fromEntries(Object.keys(envVariables).map(name => [name, { type: 'string' }])) as Record<EnvVariable, { type: 'string' }>
}

/** Reads a variable; an empty one (`VAR=`, common in LibreChat's .env) counts as unset. */
function read (env: Env, name: EnvVariable): string | undefined {
  const value = Object.hasOwn(env, name) ? env[name] : undefined
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function bool (env: Env, name: EnvVariable): boolean | undefined {
  const value = read(env, name)?.toLowerCase()
  if (value === undefined) return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  throw configError(name, 'must be true or false')
}

function duration (env: Env, name: EnvVariable, unitMs: number): number | undefined {
  const value = read(env, name)
  if (value === undefined) return undefined
  const ms = parseDuration(value, unitMs)
  if (ms === null) throw configError(name, 'must be a duration such as 900000, 1000 * 60 * 15 or 15m')
  return ms
}

function integer (env: Env, name: EnvVariable): number | undefined {
  const value = read(env, name)
  if (value === undefined) return undefined
  if (!/^\d{1,9}$/.test(value)) throw configError(name, 'must be a whole number')
  return Number(value)
}

/**
 * Maps LibreChat's environment variables to plugin options. Synchronous, evaluates no code, and
 * throws FST_LCAUTH_CONFIG_INVALID naming the variable for a value it cannot read. Unset variables are
 * left out, so the plugin's defaults apply, and explicit options spread after it win.
 */
export function optionsFromEnv (env: Env): AuthOptions {
  const options: AuthOptions = {}
  const set = setterOf(options)
  set('jwtSecret', read(env, 'JWT_SECRET'))
  set('jwtRefreshSecret', read(env, 'JWT_REFRESH_SECRET'))
  set('domainServer', read(env, 'DOMAIN_SERVER'))
  set('domainClient', read(env, 'DOMAIN_CLIENT'))
  set('allowEmailLogin', bool(env, 'ALLOW_EMAIL_LOGIN'))
  set('allowRegistration', bool(env, 'ALLOW_REGISTRATION'))
  set('allowSocialLogin', bool(env, 'ALLOW_SOCIAL_LOGIN'))
  set('allowSocialRegistration', bool(env, 'ALLOW_SOCIAL_REGISTRATION'))
  set('allowAccountDeletion', bool(env, 'ALLOW_ACCOUNT_DELETION'))
  set('allowPasswordReset', bool(env, 'ALLOW_PASSWORD_RESET'))
  set('allowUnsafePasswordReset', bool(env, 'ALLOW_UNSAFE_PASSWORD_RESET'))
  set('allowUnverifiedEmailLogin', bool(env, 'ALLOW_UNVERIFIED_EMAIL_LOGIN'))
  set('resetPasswordExpiry', duration(env, 'RESET_PASSWORD_EXPIRY', MS))
  set('emailVerificationExpiry', duration(env, 'EMAIL_VERIFICATION_EXPIRY', MS))
  set('allowedEmailDomains', read(env, 'ALLOWED_EMAIL_DOMAINS')?.split(',').map(d => d.trim()).filter(d => d !== ''))
  set('sessionExpiry', duration(env, 'SESSION_EXPIRY', MS))
  set('refreshTokenExpiry', duration(env, 'REFRESH_TOKEN_EXPIRY', MS))
  set('sessionMaxAge', duration(env, 'SESSION_MAX_AGE', MS))
  set('refreshReuseInterval', duration(env, 'REFRESH_REUSE_INTERVAL', MS))
  set('sessionMaxPerUser', integer(env, 'SESSION_MAX_PER_USER'))
  set('hashConcurrency', integer(env, 'PASSWORD_HASH_CONCURRENCY'))
  set('hashMaxWait', duration(env, 'PASSWORD_HASH_MAX_WAIT', MS))
  set('minPasswordLength', integer(env, 'MIN_PASSWORD_LENGTH'))
  set('bcryptRounds', integer(env, 'BCRYPT_ROUNDS'))
  set('sessionCookieSecure', bool(env, 'SESSION_COOKIE_SECURE'))
  set('appTitle', read(env, 'APP_TITLE'))
  set('mailer', smtpOptionsFromEnv(env, options.appTitle ?? 'LibreChat') ?? undefined)
  const databaseUrl = read(env, 'DATABASE_URL')
  if (databaseUrl !== undefined) options.storage = { url: databaseUrl }
  set('moderation', moderationFromEnv(env))
  set('trustProxy', trustProxyFromEnv(env))
  if (bool(env, 'USE_REDIS') === true) {
    const url = read(env, 'REDIS_URI')
    if (url === undefined) throw configError('REDIS_URI', 'is required when USE_REDIS=true')
    const keyPrefix = read(env, 'REDIS_KEY_PREFIX')
    options.banStore = keyPrefix === undefined ? { url } : { url, keyPrefix }
  }
  // Unset NODE_ENV leaves `production` to the plugin's own default (the process's NODE_ENV).
  const nodeEnv = read(env, 'NODE_ENV')
  if (nodeEnv !== undefined) options.production = nodeEnv === 'production'
  return options
}

/** Sets a field of `target` only when the value is defined: unset variables leave the defaults alone. */
function setterOf<T extends object> (target: T): <K extends keyof T>(key: K, value: T[K] | undefined) => void {
  return (key, value) => {
    if (value !== undefined) target[key] = value
  }
}

/** LibreChat's moderation variables; undefined when none is set. */
function moderationFromEnv (env: Env): ModerationOptions | undefined {
  const out: ModerationOptions = {}
  const put = setterOf(out)
  put('banViolations', bool(env, 'BAN_VIOLATIONS'))
  // LibreChat's soft ban is any BAN_DURATION ≤ 0, negative values included.
  put('banDuration', read(env, 'BAN_DURATION')?.startsWith('-') === true ? 0 : duration(env, 'BAN_DURATION', MS))
  put('banInterval', integer(env, 'BAN_INTERVAL'))
  put('violationTtl', duration(env, 'VIOLATION_TTL', MS))
  put('dryRun', bool(env, 'MODERATION_DRY_RUN'))
  put('limitMessageIp', bool(env, 'LIMIT_MESSAGE_IP'))
  put('limitMessageUser', bool(env, 'LIMIT_MESSAGE_USER'))
  put('limitConcurrentMessages', bool(env, 'LIMIT_CONCURRENT_MESSAGES'))
  put('concurrentMessageMax', integer(env, 'CONCURRENT_MESSAGE_MAX'))

  const limits: Partial<Record<LimiterName, LimitSetting>> = {}
  for (const [name, spec] of Object.entries(LIMITERS) as Array<[LimiterName, (typeof LIMITERS)[LimiterName]]>) {
    const maxName = `${spec.env}_MAX` as EnvVariable
    const windowName = `${spec.env}_WINDOW` as EnvVariable
    const max = integer(env, maxName)
    const windowMs = duration(env, windowName, MINUTE)
    if (max === undefined && windowMs === undefined) continue
    // Half of a pair falls back to the limiter's default (or, for a submission limiter, its request limiter's).
    const fallback = LIMITERS[FALLBACK[name] ?? name]
    limits[name] = {
      max: max ?? spec.max ?? fallback.max as number,
      windowMs: windowMs ?? (spec.windowMinutes ?? fallback.windowMinutes as number) * MINUTE
    }
  }
  if (Object.keys(limits).length > 0) out.limits = limits

  const scores: Partial<Record<ViolationType, number>> = {}
  for (const [type, spec] of Object.entries(SCORES) as Array<[ViolationType, (typeof SCORES)[ViolationType]]>) {
    const score = integer(env, spec.env as EnvVariable)
    if (score !== undefined) scores[type] = score
  }
  if (Object.keys(scores).length > 0) out.scores = scores
  return Object.keys(out).length > 0 ? out : undefined
}

/** `TRUST_PROXY`: a comma-separated list of addresses and ranges; LibreChat's hop count (`1`) and `true` are read as such. */
function trustProxyFromEnv (env: Env): TrustProxy | undefined {
  const value = read(env, 'TRUST_PROXY')
  if (value === undefined) return undefined
  if (value.toLowerCase() === 'true') return true
  if (value.toLowerCase() === 'false') return false
  if (/^\d{1,3}$/.test(value)) return Number(value)
  return value.split(',').map(entry => entry.trim()).filter(entry => entry !== '')
}
