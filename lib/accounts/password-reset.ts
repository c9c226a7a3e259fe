import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { newOneTimeSecret, oneTimeHash } from '../crypto/one-time.ts'
import { errors } from '../errors.ts'
import type { AuthEventEmitter } from '../events.ts'
import { dropUnverifiedIdentities } from '../identities/drop-unverified.ts'
import type { MailService } from '../mail/mail-service.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import { passwordProblem } from '../passwords/policy.ts'
import type { Storage, User } from '../ports/storage.ts'
import type { SessionService } from '../sessions/session-service.ts'
import { addresseeOf } from './addressee.ts'
import { canonicalEmail } from './email.ts'

/**
 * How users ask for a link: `mail`: it goes out by mail. `unsafe`: LibreChat's unsecured mode, the link
 * comes back in the response (never in production). `disabled`: they cannot (no mailer); links an
 * operator made with the CLI still work unless resets are switched off altogether.
 */
export type ResetMode = 'mail' | 'unsafe' | 'disabled'

export interface ResetSubmission { token: string, password: string, confirm_password: string, userId?: string }

export interface PasswordResetService {
  readonly mode: ResetMode
  /** Always the same outcome for known and unknown emails; only the unsafe mode returns a link, and only for a known one. */
  request(email: string, context: RequestContext): Promise<{ link?: string }>
  /** Consumes the token, sets the password, verifies the email (the inbox is proven) and ends every session. */
  reset(submission: ResetSubmission, context: RequestContext): Promise<void>
  /** A fresh single-use link for an operator to hand over (CLI `reset-link`); replaces any older one. */
  createLink(user: User): Promise<string>
}

export function passwordResetService (deps: {
  storage: Storage
  hasher: PasswordHasher
  sessions: SessionService
  mail: MailService | null
  events: AuthEventEmitter
  now: Clock
  policy: { mode: ResetMode, acceptLinks: boolean, expiryMs: number, domainClient: string, minPasswordLength: number, appTitle: string, subjectOf: (email: string) => string }
}): PasswordResetService {
  const { storage, hasher, sessions, mail, events, now, policy } = deps
  const resetPage = `${policy.domainClient}/forgot-password`

  /** One live token per user: a new one replaces the old. */
  async function issue (user: User): Promise<{ link: string, hash: string }> {
    await storage.oneTimeTokens.deleteForUser(user.id, 'password_reset')
    const { token, hash } = newOneTimeSecret()
    const at = now()
    await storage.oneTimeTokens.create({ purpose: 'password_reset', tokenHash: hash, userId: user.id, email: user.email, createdAt: at, expiresAt: new Date(at.getTime() + policy.expiryMs) })
    const link = `${policy.domainClient}/reset-password?token=${encodeURIComponent(token)}&userId=${encodeURIComponent(user.id)}`
    return { link, hash }
  }

  return {
    mode: policy.mode,

    async request (email, context) {
      if (policy.mode === 'disabled') throw new errors.FST_LCAUTH_PASSWORD_RESET_DISABLED()
      const canonical = canonicalEmail(email)
      const user = canonical === null ? null : await storage.users.findByEmail(canonical)
      events.emit('password.reset_requested', { ...context, at: now(), userId: user?.id ?? null, subject: policy.subjectOf(email) })
      if (user === null || user.disabledAt !== null) return {}
      // The unsafe mode must answer with the link, so it writes the token before answering: it tells
      // known addresses from unknown ones by the answer anyway (documented, refused in production).
      if (policy.mode === 'unsafe') return { link: (await issue(user)).link }
      // Everything a mail needs happens after the answer, so a known and an unknown email make the same
      // calls before it. A throttled request changes nothing: the link already mailed stays the one that works.
      const { to, vars } = addresseeOf(user)
      const minutes = Math.round(policy.expiryMs / 60_000)
      ;(mail as MailService).compose('resetRequest', user.email, async () => {
        const { link, hash } = await issue(user)
        return {
          to,
          vars: { ...vars, email: user.email, link, validMinutes: minutes },
          // The mail never left: the link it carried must not stay usable (a newer one is left alone).
          onFailure: async () => { await storage.oneTimeTokens.consume('password_reset', hash, now()) }
        }
      })
      return {}
    },

    async reset (submission, context) {
      if (!policy.acceptLinks) throw new errors.FST_LCAUTH_PASSWORD_RESET_DISABLED()
      // The link names its account (`userId`), so its details are kept out of the password before the
      // link is spent; a submission without one is checked against them once the link has named it.
      const named = submission.userId === undefined ? null : await storage.users.findById(submission.userId)
      const problem = passwordProblem(submission.password, policy.minPasswordLength, { ...named, appTitle: policy.appTitle }) ??
        (submission.password === submission.confirm_password ? null : 'The passwords did not match.')
      if (problem !== null) throw new errors.FST_LCAUTH_PASSWORD_POLICY(problem)
      const consumed = await storage.oneTimeTokens.consume('password_reset', oneTimeHash(submission.token), now())
      const user = consumed === null || consumed.userId === null ? null : await storage.users.findById(consumed.userId)
      if (consumed === null || user === null || (submission.userId !== undefined && submission.userId !== user.id) || user.email !== consumed.email) {
        events.emit('password.reset_failed', { ...context, at: now(), userId: user?.id ?? null })
        throw new errors.FST_LCAUTH_RESET_TOKEN_INVALID()
      }
      const personal = named === null ? passwordProblem(submission.password, policy.minPasswordLength, { ...user, appTitle: policy.appTitle }) : null
      if (personal !== null) throw new errors.FST_LCAUTH_PASSWORD_POLICY(`${personal} This link is now used: ask for a new one.`)
      // Proving the inbox also verifies the email, unlinks identities with an unverified provider email
      // and ends every session: whoever registered this address before its owner, linked an identity
      // to it, or stole a session, is out. Identities go first, so none signs in after the sessions end.
      await storage.users.update(user.id, { passwordHash: await hasher.hash(submission.password), emailVerified: true, emailVerifiedBy: 'reset' }, now())
      await storage.oneTimeTokens.deleteForUser(user.id, 'password_reset')
      await dropUnverifiedIdentities(deps, user.id, 'password_reset', context)
      await sessions.revokeAll(user.id, null, 'password_changed', context)
      events.emit('password.reset_completed', { ...context, at: now(), userId: user.id })
      // Addressed as the account was before the reset: a name chosen before the inbox was proven stays out.
      const { to, vars } = addresseeOf(user)
      mail?.queue('resetDone', to, { ...vars, email: user.email, link: resetPage, validMinutes: 0 })
    },

    async createLink (user) {
      return (await issue(user)).link
    }
  }
}
