import { EventEmitter } from 'node:events'
import type { BanSubject } from './ports/ban-store.ts'

/** Who did it and from where: attached to every event. */
export interface EventContext {
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

interface Base extends EventContext {
  /** When it happened (UTC). */
  at: Date
}

/** Why a social or OpenID sign-in (or link) ended in the generic failure redirect. */
export type OAuthFailureReason =
  | 'denied' | 'state_missing' | 'state_invalid' | 'state_replayed' | 'provider_error' | 'timeout'
  | 'no_email' | 'link_refused' | 'identity_taken' | 'registration_disabled' | 'domain_not_allowed'
  | 'disabled' | 'banned' | 'rate_limited' | 'user_gone' | 'unavailable' | 'internal' | 'role_missing' | 'role_unreadable'

export type LoginFailureReason = 'unknown_user' | 'no_password' | 'bad_password' | 'disabled' | 'email_not_verified' | 'email_login_disabled' | 'banned'

/**
 * Every security-relevant outcome, by type. `subject` is a keyed HMAC of an identifier (an email)
 * when no user id can be named; no event ever carries a secret, a token or a password.
 */
export interface AuthEvents {
  /** `provider`: the account was created by a social or OpenID sign-in. */
  'register.success': Base & { userId: string, role: string, provider?: string }
  'register.duplicate': Base & { userId: string | null }
  'register.refused': Base & { subject: string | null, reason: 'disabled' | 'domain_not_allowed' | 'policy' | 'invalid' }
  /** `provider`: how they signed in when it was not a password (`google`, `openid`, ...). */
  'login.success': Base & { userId: string, sessionId: string, provider?: string }
  'login.failure': Base & { reason: LoginFailureReason, userId: string | null, subject: string | null }
  'password.rehashed': Base & { userId: string }
  'refresh.rotated': Base & { userId: string, sessionId: string }
  'refresh.failure': Base & { reason: 'missing' | 'malformed' | 'unknown_session' | 'not_live' | 'token_mismatch' | 'user_gone' | 'user_disabled', userId: string | null, sessionId: string | null }
  'refresh.race': Base & { userId: string, sessionId: string }
  'refresh.reuse_detected': Base & { userId: string, sessionId: string }
  'session.revoked': Base & { userId: string, sessionId: string, reason: 'logout' | 'login_replaced' | 'reuse' | 'user_state' | 'session_limit' | 'user_request' | 'password_changed' | 'ban' }
  'password.changed': Base & { userId: string, sessionId: string | null }
  'password.reset_requested': Base & { userId: string | null, subject: string }
  'password.reset_failed': Base & { userId: string | null }
  'password.reset_completed': Base & { userId: string }
  'email.verification_sent': Base & { userId: string }
  'email.verified': Base & { userId: string }
  'email.verification_failed': Base & { subject: string }
  'user.created': Base & { userId: string, role: string, by: 'operator' }
  'user.deleted': Base & { userId: string, by: 'operator' | 'self' }
  'user.role_changed': Base & { userId: string, role: string }
  'user.disabled': Base & { userId: string }
  'user.enabled': Base & { userId: string }
  'password.change_failed': Base & { userId: string, reason: 'wrong_password' | 'policy' | 'no_password' }
  'logout': Base & { userId: string | null, sessionId: string | null }
  'access.denied': Base & { reason: 'missing' | 'invalid' | 'revoked' | 'role', userId: string | null }
  /** A limiter refused a request (`dryRun`: it would have, but let it through). */
  'moderation.limited': Base & { limiter: string, userId: string | null, dryRun: boolean }
  /** A violation was scored against a subject; `total` is its score for `type` now. */
  'moderation.violation': Base & { type: string, subject: BanSubject, score: number, total: number }
  /** A banned subject was refused. */
  'moderation.refused': Base & { subject: BanSubject, expiresAt: Date }
  /** Failed logins on one account are being throttled (LOG-03, LOG-04): a client refused, or an attempt delayed; never a ban. */
  'security.login_throttled': Base & { subject: string, scope: 'client' | 'account', delayMs: number }
  /** `expiresAt` null: a soft ban (sessions ended, nothing recorded). `by`: who banned. */
  'ban.created': Base & { subject: BanSubject, reason: string, expiresAt: Date | null, by: 'moderation' | 'operator', dryRun: boolean }
  'ban.lifted': Base & { subject: BanSubject, by: 'operator' }
  /** A provider identity now signs into the user: `email` when matched by a doubly verified email, `user` when the signed-in user linked it. */
  'oauth.linked': Base & { userId: string, provider: string, by: 'email' | 'user' }
  /** An identity's email matches an account, but linking by email needs both sides verified (`provider_unverified` or `account_unverified`). */
  'oauth.link_refused': Base & { userId: string, provider: string, reason: 'provider_unverified' | 'account_unverified' }
  /** An identity no longer signs into the user: the user unlinked it, or proving the mailbox removed one whose provider email was unverified. */
  'oauth.unlinked': Base & { userId: string, provider: string, reason: 'user' | 'password_reset' | 'email_verified' }
  /** A social or OpenID sign-in (or link) failed; the browser saw only the generic failure redirect. */
  'oauth.failure': Base & { provider: string, reason: OAuthFailureReason, userId: string | null }
  /** The shared moderation store failed; limits and bans run from this instance's memory until it recovers. */
  'moderation.store_unavailable': Base & { store: string, error: string }
  'moderation.store_recovered': Base & { store: string }
}

export type AuthEventName = keyof AuthEvents

/** A typed emitter. A listener that throws is reported through `error` and never breaks a request. */
export class AuthEventEmitter {
  readonly #emitter = new EventEmitter()
  readonly #onListenerError: (error: unknown, event: AuthEventName) => void

  constructor (onListenerError: (error: unknown, event: AuthEventName) => void) {
    this.#onListenerError = onListenerError
  }

  on<E extends AuthEventName> (event: E, listener: (payload: AuthEvents[E]) => void): this {
    this.#emitter.on(event, listener)
    return this
  }

  off<E extends AuthEventName> (event: E, listener: (payload: AuthEvents[E]) => void): this {
    this.#emitter.off(event, listener)
    return this
  }

  /** Any event, with its name: for audit logs. */
  onAny (listener: (event: AuthEventName, payload: AuthEvents[AuthEventName]) => void): this {
    this.#emitter.on('*', listener)
    return this
  }

  emit<E extends AuthEventName> (event: E, payload: AuthEvents[E]): void {
    for (const name of [event, '*'] as const) {
      for (const listener of this.#emitter.listeners(name)) {
        try {
          if (name === '*') listener(event, payload)
          else listener(payload)
        } catch (error) {
          this.#onListenerError(error, event)
        }
      }
    }
  }
}
