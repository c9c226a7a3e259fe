import type { FastifyBaseLogger } from 'fastify'
import type { AuthEventEmitter, AuthEventName } from '../lib/events.ts'

/**
 * The level each security event is logged at: `info` for what happens in normal use, `warn` for
 * refusals, failures, bans, reuse and outages, the lines an operator should look at.
 */
export const EVENT_LOG_LEVELS: Readonly<Record<AuthEventName, 'info' | 'warn'>> = {
  'register.success': 'info',
  'register.duplicate': 'info',
  'register.refused': 'warn',
  'login.success': 'info',
  'login.failure': 'warn',
  'password.rehashed': 'info',
  'refresh.rotated': 'info',
  'refresh.failure': 'warn',
  // Two tabs refreshing at once: expected, nothing is revoked.
  'refresh.race': 'info',
  'refresh.reuse_detected': 'warn',
  'session.revoked': 'info',
  'password.changed': 'info',
  'password.reset_requested': 'info',
  'password.reset_failed': 'warn',
  'password.reset_completed': 'info',
  'email.verification_sent': 'info',
  'email.verified': 'info',
  'email.verification_failed': 'warn',
  'user.created': 'info',
  'user.deleted': 'info',
  'user.role_changed': 'info',
  'user.disabled': 'warn',
  'user.enabled': 'info',
  'password.change_failed': 'warn',
  'logout': 'info',
  // Every access token that expires before its client refreshes it ends here: normal use, not an alarm.
  'access.denied': 'info',
  'moderation.limited': 'warn',
  'moderation.violation': 'warn',
  'moderation.refused': 'warn',
  'security.login_throttled': 'warn',
  'ban.created': 'warn',
  'ban.lifted': 'info',
  'oauth.linked': 'info',
  // A login refused for want of a doubly verified email: someone may be trying to take an account over.
  'oauth.link_refused': 'warn',
  'oauth.unlinked': 'info',
  'oauth.failure': 'warn',
  'moderation.store_unavailable': 'warn',
  'moderation.store_recovered': 'info'
}

/**
 * Fields never logged. No event carries a secret, a token, a password or an email today; a field
 * whose name says it might is left out all the same, and so is a driver's error text (which may quote
 * a connection string; the plugin's own `lcauth.moderation_store_unavailable` line has the error).
 */
const UNSAFE_FIELD = /token|password|secret|cookie|email|link|^error$/i

/**
 * Logs every event the core emits through the host's logger, as `{ event, ...payload }` with the
 * message `librechat-auth event`. The `logEvents` option (default true) switches it.
 */
export function logEvents (events: AuthEventEmitter, log: FastifyBaseLogger): void {
  events.onAny((event, payload) => {
    const line: Record<string, unknown> = { event }
    for (const [field, value] of Object.entries(payload)) if (!UNSAFE_FIELD.test(field)) line[field] = value
    log[EVENT_LOG_LEVELS[event]](line, 'librechat-auth event')
  })
}
