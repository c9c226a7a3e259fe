/**
 * Every limiter the plugin runs, as data: its LibreChat variable prefix (`<PREFIX>_MAX`,
 * `<PREFIX>_WINDOW` in minutes), defaults, and the violation type a hit scores. `null` type: a hit is
 * refused but never scored (failed logins per account must never get anyone banned).
 */
export type LimiterName = 'login' | 'register' | 'refresh' | 'refreshIp' | 'passwordChange' | 'accountDeletion' | 'resetPassword' |
  'resetPasswordSubmission' | 'verifyEmail' | 'verifyEmailSubmission' | 'messageIp' | 'messageUser' | 'loginAccount'

export type ViolationType = 'logins' | 'registrations' | 'concurrent' | 'message_limit' | 'non_browser' | 'refresh' |
  'password_change' | 'account_deletion' | 'reset_password_limit' | 'verify_email_limit'

export interface LimiterSpec {
  /** Variable prefix: `<env>_MAX`, `<env>_WINDOW`. */
  env: string
  /** Defaults; null: those of the limiter it falls back to. */
  max: number | null
  windowMinutes: number | null
  type: ViolationType | null
}

export const LIMITERS: Readonly<Record<LimiterName, LimiterSpec>> = {
  login: { env: 'LOGIN', max: 7, windowMinutes: 5, type: 'logins' },
  register: { env: 'REGISTER', max: 5, windowMinutes: 60, type: 'registrations' },
  // Per session (the refresh cookie's); a request without a readable cookie counts under its address.
  refresh: { env: 'REFRESH', max: 30, windowMinutes: 1, type: 'refresh' },
  // Every refresh of one address (/64), whatever its session: high enough for a large NAT.
  refreshIp: { env: 'REFRESH_IP', max: 600, windowMinutes: 1, type: 'refresh' },
  passwordChange: { env: 'PASSWORD_CHANGE', max: 7, windowMinutes: 5, type: 'password_change' },
  accountDeletion: { env: 'ACCOUNT_DELETION', max: 5, windowMinutes: 60, type: 'account_deletion' },
  resetPassword: { env: 'RESET_PASSWORD', max: 2, windowMinutes: 2, type: 'reset_password_limit' },
  resetPasswordSubmission: { env: 'RESET_PASSWORD_SUBMISSION', max: null, windowMinutes: null, type: 'reset_password_limit' },
  verifyEmail: { env: 'VERIFY_EMAIL', max: 2, windowMinutes: 2, type: 'verify_email_limit' },
  verifyEmailSubmission: { env: 'VERIFY_EMAIL_SUBMISSION', max: null, windowMinutes: null, type: 'verify_email_limit' },
  messageIp: { env: 'MESSAGE_IP', max: 40, windowMinutes: 1, type: 'message_limit' },
  messageUser: { env: 'MESSAGE_USER', max: 40, windowMinutes: 1, type: 'message_limit' },
  loginAccount: { env: 'LOGIN_ACCOUNT', max: 10, windowMinutes: 15, type: null }
}

/** The submission limiters fall back to their request limiter's settings, as in LibreChat. */
export const FALLBACK: Partial<Record<LimiterName, LimiterName>> = {
  resetPasswordSubmission: 'resetPassword',
  verifyEmailSubmission: 'verifyEmail'
}

/**
 * Violation types and the variable of their score, with LibreChat's defaults. A non-browser request
 * scores 20, one whole `BAN_INTERVAL`: that check is off unless a route asks for it.
 */
export const SCORES: Readonly<Record<ViolationType, { env: string, score: number }>> = {
  logins: { env: 'LOGIN_VIOLATION_SCORE', score: 1 },
  registrations: { env: 'REGISTRATION_VIOLATION_SCORE', score: 1 },
  concurrent: { env: 'CONCURRENT_VIOLATION_SCORE', score: 1 },
  message_limit: { env: 'MESSAGE_VIOLATION_SCORE', score: 1 },
  non_browser: { env: 'NON_BROWSER_VIOLATION_SCORE', score: 20 },
  refresh: { env: 'REFRESH_VIOLATION_SCORE', score: 1 },
  password_change: { env: 'PASSWORD_CHANGE_VIOLATION_SCORE', score: 1 },
  account_deletion: { env: 'ACCOUNT_DELETION_VIOLATION_SCORE', score: 1 },
  reset_password_limit: { env: 'RESET_PASSWORD_VIOLATION_SCORE', score: 1 },
  verify_email_limit: { env: 'VERIFY_EMAIL_VIOLATION_SCORE', score: 1 }
}

/** The message limiters host routes opt into, switched on by LibreChat's `LIMIT_*` variables. */

/** What a host route may ask for in `config.lcauth.moderation`. */
export const ROUTE_MODERATION: readonly ['message', 'concurrent', 'nonBrowser'] = ['message', 'concurrent', 'nonBrowser']

export type RouteModeration = (typeof ROUTE_MODERATION)[number]
