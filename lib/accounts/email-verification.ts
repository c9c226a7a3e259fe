import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { newOneTimeSecret, oneTimeHash } from '../crypto/one-time.ts'
import { errors } from '../errors.ts'
import type { AuthEventEmitter } from '../events.ts'
import type { MailService } from '../mail/mail-service.ts'
import type { Storage, User } from '../ports/storage.ts'
import { canonicalEmail } from './email.ts'

export interface EmailVerificationService {
  /** Mails a verification link for the user's current email (one live token per user). */
  send(user: User, context: RequestContext): Promise<void>
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

  async function send (user: User, context: RequestContext): Promise<void> {
    // A throttled request changes nothing: the link already mailed stays the one that works.
    if (!await mail.reserve('verifyEmail', user.email)) return
    await storage.oneTimeTokens.deleteForUser(user.id, 'email_verification')
    const { token, hash } = newOneTimeSecret()
    const at = now()
    await storage.oneTimeTokens.create({ purpose: 'email_verification', tokenHash: hash, userId: user.id, email: user.email, createdAt: at, expiresAt: new Date(at.getTime() + policy.expiryMs) })
    const link = `${policy.domainClient}/verify?token=${encodeURIComponent(token)}&email=${encodeURIComponent(user.email)}`
    mail.send('verifyEmail', { address: user.email, name: user.name }, { name: user.name, email: user.email, link, validMinutes: Math.round(policy.expiryMs / 60_000) }, async () => {
      await storage.oneTimeTokens.consume('email_verification', hash, now())
    })
    events.emit('email.verification_sent', { ...context, at, userId: user.id })
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
      await storage.users.update(user.id, { emailVerified: true }, now())
      events.emit('email.verified', { ...context, at: now(), userId: user.id })
    },

    async resend (email, context) {
      const canonical = canonicalEmail(email)
      const user = canonical === null ? null : await storage.users.findByEmail(canonical)
      if (user !== null && !user.emailVerified && user.disabledAt === null) await send(user, context)
    }
  }
}
