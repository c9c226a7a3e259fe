import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { randomToken } from '../crypto/random.ts'
import { errors, retryLater } from '../errors.ts'
import type { AuthEventEmitter, LoginFailureReason } from '../events.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import { passwordProblem } from '../passwords/policy.ts'
import type { Ban } from '../ports/ban-store.ts'
import type { Storage, User } from '../ports/storage.ts'
import type { LoginThrottle } from '../moderation/login-throttle.ts'
import type { IssuedSession, SessionService } from '../sessions/session-service.ts'
import type { MailService } from '../mail/mail-service.ts'
import type { AdminService } from './admin-service.ts'
import type { EmailVerificationService } from './email-verification.ts'
import { addresseeOf } from './addressee.ts'
import { canonicalEmail, emailDomain } from './email.ts'
import { checkNewAccount } from './new-account.ts'
import { reauthenticate } from './reauthentication.ts'

export interface RegistrationInput {
  name: string
  username?: string | null | undefined
  email: string
  password: string
  confirm_password: string
}

export interface Credentials {
  email: string
  password: string
}

export interface PasswordChange {
  currentPassword: string
  password: string
  confirm_password: string
}

export interface AccountPolicy {
  /** Login refuses an unverified email (after the password checked out). */
  requireVerifiedEmail: boolean
  /** Base of the links in mails. */
  domainClient: string
  allowRegistration: boolean
  allowAccountDeletion: boolean
  allowEmailLogin: boolean
  allowedEmailDomains: readonly string[] | null
  minPasswordLength: number
  /** `APP_TITLE`: kept out of passwords, like the account's own details. */
  appTitle: string
  /** What stands for an email in events (`subjectHasher`). */
  subjectOf: (identifier: string) => string
}

export interface AccountService {
  /**
   * Registers a local account. A new and an already-registered email get the same outcome and cost
   * the same work before it (one hash, the same storage calls); only events tell them apart.
   */
  register(input: RegistrationInput, context: RequestContext): Promise<void>
  /**
   * Checks credentials and starts a session. Every credential failure is the same error after exactly
   * one hash comparison (a dummy one for unknown emails and accounts without a password).
   */
  login(credentials: Credentials, context: RequestContext, presentedRefreshToken: string | null): Promise<IssuedSession>
  /**
   * Changes the password of a signed-in user after checking the current one, then ends every other
   * session of the user (the current one stays) and any outstanding reset link.
   */
  changePassword(userId: string, currentSessionId: string, change: PasswordChange, context: RequestContext): Promise<void>
  /**
   * Deletes the signed-in user's own account with everything tied to it. Needs the current password or,
   * for an account without one, a session started in the last five minutes.
   */
  deleteAccount(userId: string, currentSessionId: string, password: string | undefined, context: RequestContext): Promise<void>
  /** A keyed HMAC of an identifier, for events and logs: stable, but not reversible without the secret. */
  subjectOf(identifier: string): string
}

export function accountService (deps: {
  storage: Storage
  hasher: PasswordHasher
  sessions: SessionService
  admin: AdminService
  /** Null without a mailer: nothing is mailed and emails are not verified. */
  mail: MailService | null
  verification: EmailVerificationService | null
  events: AuthEventEmitter
  now: Clock
  policy: AccountPolicy
  /** Failed-login throttling per account (moderation); none: unthrottled. */
  throttle?: LoginThrottle
  /** The user's live ban, asked only once the password is proven, so a ban never reveals an account. */
  userBan?: (userId: string) => Promise<Ban | null>
}): AccountService {
  const { storage, hasher, sessions, admin, mail, verification, events, now, policy, throttle, userBan } = deps
  // Compared against when there is no real hash, so that path costs one bcrypt comparison too. Made
  // once, up front, so not even the first unknown email pays for creating it.
  const dummyHash = hasher.hash(randomToken(24))
  // Never an unhandled rejection: a hasher that fails here fails the login that awaits it.
  dummyHash.catch(() => {})
  const dummy = (): Promise<string> => dummyHash
  const { subjectOf } = policy

  const refuseRegistration = (context: RequestContext, email: string | null, reason: 'disabled' | 'domain_not_allowed' | 'policy' | 'invalid'): void => {
    events.emit('register.refused', { ...context, at: now(), subject: email === null ? null : subjectOf(email), reason })
  }

  async function register (input: RegistrationInput, context: RequestContext): Promise<void> {
    if (!policy.allowRegistration) {
      refuseRegistration(context, null, 'disabled')
      throw new errors.FST_LCAUTH_REGISTRATION_DISABLED()
    }
    const checked = checkNewAccount({ ...input, confirmPassword: input.confirm_password }, policy.minPasswordLength, policy.appTitle)
    if (!checked.ok) {
      refuseRegistration(context, checked.email, checked.kind)
      throw checked.kind === 'invalid' ? new errors.FST_LCAUTH_VALIDATION(checked.problem) : new errors.FST_LCAUTH_PASSWORD_POLICY(checked.problem)
    }
    const canonical = checked.email
    if (policy.allowedEmailDomains !== null && !policy.allowedEmailDomains.includes(emailDomain(canonical))) {
      refuseRegistration(context, canonical, 'domain_not_allowed')
      throw new errors.FST_LCAUTH_EMAIL_DOMAIN_NOT_ALLOWED()
    }
    // Hash before looking anything up, so a taken email costs the same as a new one. The store decides
    // uniqueness and the first user's role in one atomic step.
    const passwordHash = await hasher.hash(input.password)
    const created = await storage.users.create({
      email: canonical,
      name: checked.name,
      username: checked.username,
      provider: 'local',
      emailVerified: false,
      passwordHash
    }, now())
    // Both outcomes read the address's account back: a taken email needs its owner (for the event and
    // the notice), and a new one makes the same call, so the two do the same storage work before the
    // answer. Mails, and the writes they need (a verification token), come after it.
    const owner = await storage.users.findByEmail(canonical)
    if (created) {
      events.emit('register.success', { ...context, at: now(), userId: created.id, role: created.role })
      verification?.send(created, context)
      return
    }
    events.emit('register.duplicate', { ...context, at: now(), userId: owner?.id ?? null })
    // The owner hears of it (and of the way back in, should it have been them); the response does not change.
    if (owner !== null) {
      const { to, vars } = addresseeOf(owner)
      mail?.queue('registrationAttempt', to, { ...vars, email: owner.email, link: `${policy.domainClient}/forgot-password`, validMinutes: 0 })
    }
  }

  async function login (credentials: Credentials, context: RequestContext, presentedRefreshToken: string | null): Promise<IssuedSession> {
    const fail = (reason: LoginFailureReason, user: User | null): Error => {
      events.emit('login.failure', { ...context, at: now(), reason, userId: user?.id ?? null, subject: subjectOf(credentials.email) })
      return reason === 'disabled'
        ? new errors.FST_LCAUTH_ACCOUNT_DISABLED()
        : reason === 'email_not_verified'
          ? new errors.FST_LCAUTH_EMAIL_NOT_VERIFIED()
          : reason === 'email_login_disabled' ? new errors.FST_LCAUTH_EMAIL_LOGIN_DISABLED() : new errors.FST_LCAUTH_INVALID_CREDENTIALS()
    }
    if (!policy.allowEmailLogin) throw fail('email_login_disabled', null)
    const email = canonicalEmail(credentials.email)
    // An address that is not even valid is throttled under its raw form, like any other.
    const target = email ?? credentials.email.trim().toLowerCase()
    await throttle?.before(target, context)
    const user = email === null ? null : await storage.users.findByEmail(email)
    if (user === null || user.passwordHash === null) {
      await hasher.verify(credentials.password, await dummy())
      await throttle?.failed(target, context)
      throw fail(user === null ? 'unknown_user' : 'no_password', user)
    }
    if (!await hasher.verify(credentials.password, user.passwordHash)) {
      await throttle?.failed(target, context)
      throw fail('bad_password', user)
    }
    // Only now, with the password proven, may the answer reveal anything about the account.
    const ban = await userBan?.(user.id) ?? null
    if (ban !== null) {
      fail('banned', user)
      throw retryLater('FST_LCAUTH_BANNED', ban.expiresAt.getTime() - now().getTime())
    }
    if (user.disabledAt !== null) throw fail('disabled', user)
    if (policy.requireVerifiedEmail && !user.emailVerified) throw fail('email_not_verified', user)
    if (hasher.needsRehash(user.passwordHash)) {
      await storage.users.update(user.id, { passwordHash: await hasher.hash(credentials.password) }, now())
      events.emit('password.rehashed', { ...context, at: now(), userId: user.id })
    }
    const issued = await sessions.start(user, context, presentedRefreshToken)
    events.emit('login.success', { ...context, at: now(), userId: user.id, sessionId: issued.session.id })
    return issued
  }

  async function changePassword (userId: string, currentSessionId: string, change: PasswordChange, context: RequestContext): Promise<void> {
    const refuse = (reason: 'wrong_password' | 'policy' | 'no_password'): void => {
      events.emit('password.change_failed', { ...context, at: now(), userId, reason })
    }
    const user = await storage.users.findById(userId)
    if (user === null || user.disabledAt !== null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
    const problem = passwordProblem(change.password, policy.minPasswordLength, { ...user, appTitle: policy.appTitle }) ??
      (change.password === change.confirm_password ? null : 'The passwords did not match.')
    if (problem !== null) {
      refuse('policy')
      throw new errors.FST_LCAUTH_PASSWORD_POLICY(problem)
    }
    if (user.passwordHash === null || !await hasher.verify(change.currentPassword, user.passwordHash)) {
      refuse(user.passwordHash === null ? 'no_password' : 'wrong_password')
      throw new errors.FST_LCAUTH_WRONG_PASSWORD()
    }
    await storage.users.update(userId, { passwordHash: await hasher.hash(change.password) }, now())
    await sessions.revokeAll(userId, currentSessionId, 'password_changed', context)
    await storage.oneTimeTokens.deleteForUser(userId, 'password_reset')
    events.emit('password.changed', { ...context, at: now(), userId, sessionId: currentSessionId })
    const { to, vars } = addresseeOf(user)
    mail?.queue('passwordChanged', to, { ...vars, email: user.email, link: `${policy.domainClient}/forgot-password`, validMinutes: 0 })
  }

  async function deleteAccount (userId: string, currentSessionId: string, password: string | undefined, context: RequestContext): Promise<void> {
    if (!policy.allowAccountDeletion) throw new errors.FST_LCAUTH_ACCOUNT_DELETION_DISABLED()
    const user = await storage.users.findById(userId)
    if (user === null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
    await reauthenticate({ storage, hasher, now }, user, currentSessionId, password)
    await admin.deleteUser(user, 'self', context)
  }

  return { register, login, changePassword, deleteAccount, subjectOf }
}
