import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { errors } from '../errors.ts'
import type { AuthEventEmitter } from '../events.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import { passwordProblem } from '../passwords/policy.ts'
import type { Role, Storage, User } from '../ports/storage.ts'
import type { RevocationReason, SessionService } from '../sessions/session-service.ts'
import { canonicalEmail } from './email.ts'
import { checkNewAccount } from './new-account.ts'
import { nameProblem } from './profile.ts'

export interface NewUserByOperator {
  email: string
  /** Defaults to the email's local part, as LibreChat's create-user does. */
  name?: string
  username?: string | null
  password: string
  confirmPassword?: string
  /** Grants ADMIN; without it the store decides (ADMIN only for the very first user). */
  admin?: boolean
  verified?: boolean
}

/**
 * What an operator does to accounts (the CLI, an admin panel): the same rules as the HTTP routes —
 * canonical emails, the password policy, bounded hashing — and every change that takes access away
 * ends the user's sessions, which reaches every running server through storage.
 */
export interface AdminService {
  /** Throws FST_LCAUTH_VALIDATION, FST_LCAUTH_PASSWORD_POLICY or FST_LCAUTH_EMAIL_TAKEN. */
  createUser(input: NewUserByOperator, context: RequestContext): Promise<User>
  /** The user with this email (any case or form), or null. */
  findByEmail(email: string): Promise<User | null>
  list(page: { offset: number, limit: number }): Promise<User[]>
  /** Deletes the user with everything tied to them; their sessions are revoked first. Returns the revoked session ids. */
  deleteUser(user: User, by: 'operator' | 'self', context: RequestContext): Promise<string[]>
  /** A demotion ends the user's sessions, so no token keeps the old role. */
  setRole(user: User, role: Role, context: RequestContext): Promise<User>
  /** A disabled user cannot log in or refresh; disabling ends their sessions. */
  setDisabled(user: User, disabled: boolean, context: RequestContext): Promise<User>
  /** Sets a new password (policy applied), ends every session and any pending reset link. */
  setPassword(user: User, password: string, context: RequestContext): Promise<void>
}

export function adminService (deps: {
  storage: Storage
  hasher: PasswordHasher
  events: AuthEventEmitter
  now: Clock
  minPasswordLength: number
  /** `APP_TITLE`: kept out of passwords, like the account's own details. */
  appTitle: string
  /** Ends sessions, on every instance (storage is the source of truth). */
  sessions: Pick<SessionService, 'revokeAll' | 'recordRevoked'>
}): AdminService {
  const { storage, hasher, events, now, minPasswordLength, appTitle, sessions } = deps
  const endSessions = async (userId: string, reason: RevocationReason, context: RequestContext): Promise<void> => {
    await sessions.revokeAll(userId, null, reason, context)
  }

  const updated = async (user: User, patch: Parameters<Storage['users']['update']>[1]): Promise<User> => {
    const result = await storage.users.update(user.id, patch, now())
    if (result === null) throw new errors.FST_LCAUTH_NOT_FOUND()
    return result
  }

  return {
    async createUser (input, context) {
      // LibreChat's create-user names the account after the email's local part; one too short for the
      // name rules falls back to the whole address.
      const local = input.email.trim().split('@', 1)[0] as string
      const name = input.name ?? (nameProblem(local) === null ? local : input.email.trim())
      const checked = checkNewAccount({ ...input, name }, minPasswordLength, appTitle)
      if (!checked.ok) {
        throw checked.kind === 'invalid' ? new errors.FST_LCAUTH_VALIDATION(checked.problem) : new errors.FST_LCAUTH_PASSWORD_POLICY(checked.problem)
      }
      const passwordHash = await hasher.hash(input.password)
      const created = await storage.users.create({
        email: checked.email,
        name: checked.name,
        username: checked.username,
        provider: 'local',
        emailVerified: input.verified === true,
        emailVerifiedBy: input.verified === true ? 'operator' : null,
        passwordHash,
        ...(input.admin === true ? { role: 'ADMIN' as const } : {})
      }, now())
      if (created === null) throw new errors.FST_LCAUTH_EMAIL_TAKEN()
      events.emit('user.created', { ...context, at: now(), userId: created.id, role: created.role, by: 'operator' })
      return created
    },

    async findByEmail (email) {
      const canonical = canonicalEmail(email)
      return canonical === null ? null : storage.users.findByEmail(canonical)
    },

    list: (page) => storage.users.list(page),

    async deleteUser (user, by, context) {
      // Deleting revokes (and keeps) the user's sessions in the same step, so none outlives the user.
      const at = now()
      const ids = await storage.users.delete(user.id, at)
      sessions.recordRevoked(user.id, ids, at, 'user_state', context)
      events.emit('user.deleted', { ...context, at, userId: user.id, by })
      return ids
    },

    async setRole (user, role, context) {
      const result = await updated(user, { role })
      if (user.role === 'ADMIN' && role !== 'ADMIN') await endSessions(user.id, 'user_state', context)
      events.emit('user.role_changed', { ...context, at: now(), userId: user.id, role })
      return result
    },

    async setDisabled (user, disabled, context) {
      const result = await updated(user, { disabledAt: disabled ? now() : null })
      if (disabled) await endSessions(user.id, 'user_state', context)
      events.emit(disabled ? 'user.disabled' : 'user.enabled', { ...context, at: now(), userId: user.id })
      return result
    },

    async setPassword (user, password, context) {
      const problem = passwordProblem(password, minPasswordLength, { ...user, appTitle })
      if (problem !== null) throw new errors.FST_LCAUTH_PASSWORD_POLICY(problem)
      await updated(user, { passwordHash: await hasher.hash(password) })
      await endSessions(user.id, 'password_changed', context)
      await storage.oneTimeTokens.deleteForUser(user.id, 'password_reset')
      events.emit('password.changed', { ...context, at: now(), userId: user.id, sessionId: null })
    }
  }
}
