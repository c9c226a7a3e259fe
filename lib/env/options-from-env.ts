import { configError } from '../errors.ts'
import type { AuthOptions } from '../options/types.ts'
import { moderationFromEnv, trustProxyFromEnv } from './moderation.ts'
import { bool, duration, type Env, integer, read, setterOf } from './read.ts'
import { smtpOptionsFromEnv } from './smtp.ts'
import { socialLoginFromEnv } from './social.ts'
import { openIdFromEnv } from './openid.ts'

const MS = 1

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
  // LibreChat's meaning of an unset ALLOW_REGISTRATION: closed until an operator opens it.
  options.allowRegistration = bool(env, 'ALLOW_REGISTRATION') ?? false
  set('allowSocialLogin', bool(env, 'ALLOW_SOCIAL_LOGIN'))
  set('allowSocialRegistration', bool(env, 'ALLOW_SOCIAL_REGISTRATION'))
  set('socialLogin', socialLoginFromEnv(env))
  set('openid', openIdFromEnv(env))
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
  set('databaseTimeout', integer(env, 'DATABASE_TIMEOUT_MS'))
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
