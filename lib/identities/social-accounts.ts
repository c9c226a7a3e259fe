import { canonicalEmail, emailDomain } from '../accounts/email.ts'
import { addresseeOf } from '../accounts/addressee.ts'
import { nameProblem, usernameProblem } from '../accounts/profile.ts'
import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { errors } from '../errors.ts'
import type { AuthEventEmitter, OAuthFailureReason } from '../events.ts'
import type { MailService } from '../mail/mail-service.ts'
import type { Ban } from '../ports/ban-store.ts'
import type { Identity, Role, Storage, User } from '../ports/storage.ts'
import type { IssuedSession, SessionService } from '../sessions/session-service.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import { reauthenticate } from '../accounts/reauthentication.ts'
import type { ProviderProfile } from './provider-profile.ts'

/** A sign-in or link that must end in the generic failure; `reason` is for the log and the event only. */
export class SocialRefusal extends Error {
  constructor (readonly reason: OAuthFailureReason, readonly userId: string | null = null) {
    super(`social sign-in refused: ${reason}`)
    this.name = 'SocialRefusal'
  }
}

/** Where the identity comes from: the provider's name, and the issuer (the name again for social providers). */
export interface IdentitySource { provider: string, issuer: string }

/** What a user sees of a linked sign-in. */
export interface LinkedIdentity { provider: string, email: string | null, emailVerified: boolean, linkedAt: string }

export interface SocialAccountService {
  /**
   * Finds (or, when allowed, creates) the user behind a provider identity and starts a session. Throws
   * SocialRefusal. `role`: what the provider's roles make the user (OpenID's admin role), applied first;
   * losing ADMIN ends every session of the user, since their access tokens carry the role.
   */
  signIn(source: IdentitySource, profile: ProviderProfile, context: RequestContext, presentedRefreshToken: string | null, role?: Role): Promise<IssuedSession>
  /** Links a provider identity to a signed-in user who asked for it. Throws SocialRefusal. */
  link(userId: string, source: IdentitySource, profile: ProviderProfile, context: RequestContext): Promise<void>
  list(userId: string): Promise<LinkedIdentity[]>
  /** Before a link starts: the current password, or for an account without one a session started in the last five minutes. */
  confirmUser(userId: string, sessionId: string, password: string | undefined): Promise<void>
  /** Unlinks every identity of `provider`; never the last way the user can sign in. */
  unlink(userId: string, provider: string, context: RequestContext): Promise<void>
}

export function socialAccountService (deps: {
  storage: Storage
  hasher: PasswordHasher
  sessions: SessionService
  events: AuthEventEmitter
  now: Clock
  mail: MailService | null
  userBan: (userId: string) => Promise<Ban | null>
  /** The providers that can sign in right now: an identity of any other is no way in. */
  enabledProviders: () => readonly string[]
  policy: { allowSocialRegistration: boolean, allowEmailLogin: boolean, allowedEmailDomains: readonly string[] | null, domainClient: string }
}): SocialAccountService {
  const { storage, sessions, events, now, mail, policy } = deps

  const notify = (user: User, kind: 'identityLinked' | 'identityUnlinked', provider: string): void => {
    const { to, vars } = addresseeOf(user)
    mail?.queue(kind, to, { ...vars, email: user.email, provider, link: `${policy.domainClient}/forgot-password`, validMinutes: 0 })
  }

  const newIdentity = (source: IdentitySource, profile: ProviderProfile, userId: string): Identity => ({
    ...source, subject: profile.subject, userId, email: canonicalEmail(profile.email ?? ''), emailVerified: profile.emailVerified, createdAt: now()
  })

  /** The user an identity already signs into, with the provider's latest word on the email recorded. */
  async function known (identity: Identity, profile: ProviderProfile): Promise<User> {
    const email = canonicalEmail(profile.email ?? '')
    if (identity.email !== email || identity.emailVerified !== profile.emailVerified) {
      await storage.identities.update(identity, { email, emailVerified: profile.emailVerified })
    }
    const user = await storage.users.findById(identity.userId)
    if (user === null) throw new SocialRefusal('user_gone')
    if (user.avatar !== null || profile.avatar === null) return user
    await storage.users.update(user.id, { avatar: profile.avatar }, now())
    return { ...user, avatar: profile.avatar }
  }

  /**
   * An unknown identity whose email has an account: linked only when the provider verified the email
   * and this system saw the mailbox itself (a verification link or a reset, never an operator's word).
   */
  async function linkByEmail (owner: User, source: IdentitySource, profile: ProviderProfile, context: RequestContext): Promise<User> {
    const selfVerified = owner.emailVerified && (owner.emailVerifiedBy === 'mail' || owner.emailVerifiedBy === 'reset')
    const refusal = !profile.emailVerified ? 'provider_unverified' : selfVerified ? null : 'account_unverified'
    if (refusal !== null) {
      events.emit('oauth.link_refused', { ...context, at: now(), userId: owner.id, provider: source.provider, reason: refusal })
      throw new SocialRefusal('link_refused', owner.id)
    }
    if (await storage.identities.create(newIdentity(source, profile, owner.id)) === null) return resolve(source, profile, context, false)
    events.emit('oauth.linked', { ...context, at: now(), userId: owner.id, provider: source.provider, by: 'email' })
    notify(owner, 'identityLinked', source.provider)
    return owner
  }

  async function register (email: string, source: IdentitySource, profile: ProviderProfile, context: RequestContext): Promise<User | null> {
    if (!policy.allowSocialRegistration) throw new SocialRefusal('registration_disabled')
    if (policy.allowedEmailDomains !== null && !policy.allowedEmailDomains.includes(emailDomain(email))) throw new SocialRefusal('domain_not_allowed')
    const name = [profile.name, profile.username, email.slice(0, email.indexOf('@'))].find(n => n !== null && nameProblem(n) === null)
    const user = await storage.users.create({
      email,
      name: name?.trim() ?? 'New user',
      username: profile.username !== null && usernameProblem(profile.username) === null ? profile.username : null,
      avatar: profile.avatar,
      provider: source.provider,
      // Provider-made accounts are never the first-user admin.
      role: 'USER',
      emailVerified: profile.emailVerified,
      emailVerifiedBy: profile.emailVerified ? 'provider' : null,
      passwordHash: null
    }, now())
    if (user === null) return null
    if (await storage.identities.create(newIdentity(source, profile, user.id)) === null) {
      // The same identity signed up at the same moment elsewhere: that account stands, this one goes.
      await storage.users.delete(user.id, now())
      return null
    }
    events.emit('register.success', { ...context, at: now(), userId: user.id, role: user.role, provider: source.provider })
    return user
  }

  async function setRole (user: User, role: Role, context: RequestContext): Promise<User> {
    const updated = { ...user, role }
    await storage.users.update(user.id, { role }, now())
    events.emit('user.role_changed', { ...context, at: now(), userId: user.id, role })
    if (role !== 'ADMIN') await sessions.revokeAll(user.id, null, 'user_state', context)
    return updated
  }

  /** The identity's user: known, linked by a doubly verified email, or new. `retry`: once, after losing a race. */
  async function resolve (source: IdentitySource, profile: ProviderProfile, context: RequestContext, retry = true): Promise<User> {
    const identity = await storage.identities.find(source.provider, source.issuer, profile.subject)
    if (identity !== null) return known(identity, profile)
    const email = canonicalEmail(profile.email ?? '')
    if (email === null) throw new SocialRefusal('no_email')
    const owner = await storage.users.findByEmail(email)
    if (owner !== null) return linkByEmail(owner, source, profile, context)
    const created = await register(email, source, profile, context)
    if (created !== null) return created
    if (!retry) throw new SocialRefusal('identity_taken')
    return resolve(source, profile, context, false)
  }

  return {
    async signIn (source, profile, context, presentedRefreshToken, role) {
      const found = await resolve(source, profile, context)
      if (found.disabledAt !== null) throw new SocialRefusal('disabled', found.id)
      if (await deps.userBan(found.id) !== null) throw new SocialRefusal('banned', found.id)
      const user = role === undefined || role === found.role ? found : await setRole(found, role, context)
      const issued = await sessions.start(user, context, presentedRefreshToken)
      events.emit('login.success', { ...context, at: now(), userId: user.id, sessionId: issued.session.id, provider: source.provider })
      return issued
    },

    async link (userId, source, profile, context) {
      const user = await storage.users.findById(userId)
      if (user === null) throw new SocialRefusal('user_gone', userId)
      if (user.disabledAt !== null) throw new SocialRefusal('disabled', userId)
      const identity = await storage.identities.find(source.provider, source.issuer, profile.subject)
      if (identity !== null) {
        if (identity.userId === userId) return
        throw new SocialRefusal('identity_taken', userId)
      }
      if (await storage.identities.create(newIdentity(source, profile, userId)) === null) throw new SocialRefusal('identity_taken', userId)
      events.emit('oauth.linked', { ...context, at: now(), userId, provider: source.provider, by: 'user' })
      notify(user, 'identityLinked', source.provider)
    },

    async confirmUser (userId, sessionId, password) {
      const user = await storage.users.findById(userId)
      if (user === null || user.disabledAt !== null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
      await reauthenticate({ storage, hasher: deps.hasher, now }, user, sessionId, password)
    },

    async list (userId) {
      const identities = await storage.identities.listByUser(userId)
      return identities.map(i => ({ provider: i.provider, email: i.email, emailVerified: i.emailVerified, linkedAt: i.createdAt.toISOString() }))
    },

    async unlink (userId, provider, context) {
      const user = await storage.users.findById(userId)
      if (user === null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
      const identities = await storage.identities.listByUser(userId)
      const going = identities.filter(i => i.provider === provider)
      if (going.length === 0) throw new errors.FST_LCAUTH_NOT_FOUND()
      const enabled = deps.enabledProviders()
      const waysLeft = identities.filter(i => i.provider !== provider && enabled.includes(i.provider)).length +
        (user.passwordHash !== null && policy.allowEmailLogin ? 1 : 0)
      if (waysLeft === 0) throw new errors.FST_LCAUTH_LAST_SIGN_IN_METHOD()
      for (const identity of going) await storage.identities.delete(identity)
      events.emit('oauth.unlinked', { ...context, at: now(), userId, provider, reason: 'user' })
      notify(user, 'identityUnlinked', provider)
    }
  }
}
