import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { newOneTimeSecret, oneTimeHash } from '../crypto/one-time.ts'
import { errors } from '../errors.ts'
import type { AuthEventEmitter } from '../events.ts'
import { dropUnverifiedIdentities } from '../identities/drop-unverified.ts'
import type { MailService } from '../mail/mail-service.ts'
import type { Storage, User } from '../ports/storage.ts'
import { addresseeOf } from './addressee.ts'
import { canonicalEmail } from './email.ts'

export interface EmailVerificationService {
  /**
   * Mails a verification link for the user's current email (one live token per user). The token and
   * the mail are made after the current request answers, so this returns at once.
   */
  send(user: User, context: RequestContext): void
  /** Verifies when the token was issued for exactly this email and is unused and unexpired; one error for every failure. */
  verify(email: string, token: string, context: RequestContext): Promise<void>
  /** Sends a new link to an unverified account; answers the same whatever the email. */
  resend(email: string, context: RequestContext): Promise<void>
}

export function emailVerificationService (deps: {
  storage: Storage
  mail: MailService
  events: AuthEventEmitter
  now: Clock
  policy: { expiryMs: number, domainClient: string, subjectOf: (email: string) => string }
}): EmailVerificationService {
  const { storage, mail, events, now, policy } = deps

  /** Everything happens after the current request answers; a throttled request changes nothing. */
  function send (user: User, context: RequestContext): void {
    const { to, vars } = addresseeOf(user)
    mail.compose('verifyEmail', user.email, async () => {
      await storage.oneTimeTokens.deleteForUser(user.id, 'email_verification')
      const { token, hash } = newOneTimeSecret()
      const at = now()
      await storage.oneTimeTokens.create({ purpose: 'email_verification', tokenHash: hash, userId: user.id, email: user.email, createdAt: at, expiresAt: new Date(at.getTime() + policy.expiryMs) })
      events.emit('email.verification_sent', { ...context, at, userId: user.id })
      const link = `${policy.domainClient}/verify?token=${encodeURIComponent(token)}&email=${encodeURIComponent(user.email)}`
      return {
        to,
        vars: { ...vars, email: user.email, link, validMinutes: Math.round(policy.expiryMs / 60_000) },
        // The mail never left: the link it carried must not stay usable.
        onFailure: async () => { await storage.oneTimeTokens.consume('email_verification', hash, now()) }
      }
    })
  }

  return {
    send,

    async verify (email, token, context) {
      const canonical = canonicalEmail(email)
      const consumed = canonical === null ? null : await storage.oneTimeTokens.consume('email_verification', oneTimeHash(token), now())
      const user = consumed === null || consumed.userId === null ? null : await storage.users.findById(consumed.userId)
      // Bound to the address: a token issued before an email change, or for another address, is useless.
      if (consumed === null || user === null || consumed.email !== canonical || user.email !== canonical) {
        events.emit('email.verification_failed', { ...context, at: now(), subject: policy.subjectOf(email) })
        throw new errors.FST_LCAUTH_VERIFICATION_INVALID()
      }
      await storage.users.update(user.id, { emailVerified: true, emailVerifiedBy: 'mail' }, now())
      await dropUnverifiedIdentities(deps, user.id, 'email_verified', context)
      events.emit('email.verified', { ...context, at: now(), userId: user.id })
    },

    async resend (email, context) {
      const canonical = canonicalEmail(email)
      const user = canonical === null ? null : await storage.users.findByEmail(canonical)
      // The only storage call before the answer is this lookup, whatever the email.
      if (user !== null && !user.emailVerified && user.disabledAt === null) send(user, context)
    }
  }
}
