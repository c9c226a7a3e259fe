import createError, { type FastifyErrorConstructor } from '@fastify/error'

/**
 * Every error this package answers with: code → [message, HTTP status]. `docs/errors.md` lists the
 * same codes (a test keeps the two in sync). Messages are what a client may show: never a token,
 * password, email address or secret. `%s` is filled by the thrower with a safe detail.
 */
const table = {
  FST_LCAUTH_CONFIG_INVALID: ['Invalid librechat-auth configuration: %s', 500],
  FST_LCAUTH_VALIDATION: ['%s', 400],
  FST_LCAUTH_INVALID_JSON: ['The request body is not valid JSON.', 400],
  FST_LCAUTH_BAD_REQUEST: ['The request could not be understood.', 400],
  FST_LCAUTH_BODY_TOO_LARGE: ['The request body is too large.', 413],
  FST_LCAUTH_UNSUPPORTED_MEDIA_TYPE: ['The request body must be JSON (Content-Type: application/json).', 415],
  FST_LCAUTH_CROSS_SITE: ['Cross-site requests are not allowed here.', 403],
  FST_LCAUTH_PASSWORD_POLICY: ['%s', 400],
  FST_LCAUTH_REGISTRATION_DISABLED: ['Registration is not allowed.', 403],
  FST_LCAUTH_EMAIL_DOMAIN_NOT_ALLOWED: ['This email address cannot be used to register.', 403],
  FST_LCAUTH_EMAIL_LOGIN_DISABLED: ['Email login is not allowed.', 403],
  FST_LCAUTH_INVALID_CREDENTIALS: ['Invalid email or password.', 401],
  FST_LCAUTH_ACCOUNT_DISABLED: ['This account has been disabled.', 403],
  FST_LCAUTH_UNAUTHORIZED: ['Authentication required.', 401],
  FST_LCAUTH_FORBIDDEN: ['You do not have permission to do this.', 403],
  FST_LCAUTH_NOT_FOUND: ['Not found.', 404],
  FST_LCAUTH_LAST_SIGN_IN_METHOD: ['This is the last way to sign in to your account: add a password or link another sign-in first.', 409],
  FST_LCAUTH_EMAIL_TAKEN: ['An account with this email already exists.', 409],
  FST_LCAUTH_ACCOUNT_DELETION_DISABLED: ['Deleting accounts is not allowed.', 403],
  FST_LCAUTH_REAUTHENTICATION_REQUIRED: ['Log in again to confirm this action.', 401],
  FST_LCAUTH_WRONG_PASSWORD: ['The current password is not correct.', 401],
  FST_LCAUTH_BUSY: ['The server is busy. Please try again shortly.', 503],
  FST_LCAUTH_PASSWORD_RESET_DISABLED: ['Password reset is not available.', 403],
  FST_LCAUTH_RESET_TOKEN_INVALID: ['This password reset link is invalid or has expired.', 400],
  FST_LCAUTH_EMAIL_NOT_VERIFIED: ['Please verify your email address before logging in.', 422],
  FST_LCAUTH_VERIFICATION_INVALID: ['This verification link is invalid or has expired.', 400],
  FST_LCAUTH_PROVIDER_UNAVAILABLE: ['The sign-in provider cannot be reached right now. Please try again shortly.', 503],
  FST_LCAUTH_STORAGE_UNAVAILABLE: ['The service is temporarily unavailable. Please try again shortly.', 503],
  FST_LCAUTH_REFRESH_INVALID: ['Your session has expired. Please log in again.', 401],
  FST_LCAUTH_REFRESH_REUSED: ['This session has ended. Please log in again.', 401],
  FST_LCAUTH_REFRESH_RACE: ['This session was just refreshed by another request. Retry with the newest cookie.', 401],
  FST_LCAUTH_RATE_LIMITED: ['Too many requests. Please try again in %s.', 429],
  FST_LCAUTH_BANNED: ['Access is temporarily suspended because of repeated violations. Please try again in %s.', 403],
  FST_LCAUTH_INTERNAL: ['Something went wrong.', 500]
} as const

export type ErrorCode = keyof typeof table
export type LcauthErrorConstructor<K extends ErrorCode> = FastifyErrorConstructor<{ code: K, statusCode: number }, [string?]>

function build (): { [K in ErrorCode]: LcauthErrorConstructor<K> } {
  const out: Record<string, unknown> = {}
  for (const [code, [message, status]] of Object.entries(table)) out[code] = createError(code, message, status)
  return out as { [K in ErrorCode]: LcauthErrorConstructor<K> }
}

/** Error constructors by code: `throw new errors.FST_LCAUTH_UNAUTHORIZED()`. */
export const errors: { [K in ErrorCode]: LcauthErrorConstructor<K> } = build()

/** Every code with its status, for docs and tests. */
export const errorCodes: ReadonlyArray<{ code: ErrorCode, statusCode: number }> =
  Object.entries(table).map(([code, [, statusCode]]) => ({ code: code as ErrorCode, statusCode }))

/** A refusal that tells the client when to come back (the error handler sets `Retry-After`). */
export type RetryableError = Error & { retryAfterSeconds: number }

/** FST_LCAUTH_RATE_LIMITED or FST_LCAUTH_BANNED, saying in words and in `retryAfterSeconds` how long to wait. */
export function retryLater (code: 'FST_LCAUTH_RATE_LIMITED' | 'FST_LCAUTH_BANNED', waitMs: number): RetryableError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000))
  const error = new errors[code](inWords(seconds)) as unknown as RetryableError
  error.retryAfterSeconds = seconds
  return error
}

function inWords (seconds: number): string {
  if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  return minutes < 120 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`
}

/** A registration-time configuration error that names the option at fault. */
export function configError (option: string, problem: string): Error {
  return new errors.FST_LCAUTH_CONFIG_INVALID(`${option} ${problem}`)
}
