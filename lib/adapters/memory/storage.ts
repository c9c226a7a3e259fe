import { randomId } from '../../crypto/random.ts'
import { endedAt, isLive, rotationOf } from '../../sessions/session-state.ts'
import {
  type Identity, type IdentityStore, type NewOneTimeToken, type NewSession, type NewUser, type OneTimeToken,
  type OneTimeTokenPurpose, type OneTimeTokenStore, type RevocationCursor, type Rotation, type Session, type SessionStore,
  type Storage, type User, type UserPatch, type UserStore
} from '../../ports/storage.ts'

// Every method reads and writes synchronously between awaits, which is what makes each one atomic here.
// Values are cloned on the way in and out so callers can never mutate the store.

const copy = <T>(value: T): T => structuredClone(value)
/** Sorts in place by creation time; the sort is stable, so equal times keep insertion order. */
const oldestFirst = (list: Identity[]): Identity[] => list.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())

/** In-memory storage for tests and quick experiments: everything is lost when the process ends. */
export function memoryStorage (): Storage {
  const users = new Map<string, User>()
  const userIdByEmail = new Map<string, string>()
  const identities = new Map<string, Identity>()
  const sessions = new Map<string, Session>()
  const tokens = new Map<string, OneTimeToken>()
  const identityKey = (provider: string, issuer: string, subject: string): string => JSON.stringify([provider, issuer, subject])
  const tokenKey = (purpose: OneTimeTokenPurpose, hash: string): string => `${purpose}:${hash}`
  // The revocation feed's order: a counter of this store's own, never the revokers' clocks.
  let revocationCount = 0
  const revocationOrder = new Map<string, number>()
  const markRevoked = (session: Session, at: Date): void => {
    session.revokedAt = new Date(at)
    revocationOrder.set(session.id, ++revocationCount)
  }

  const userStore: UserStore = {
    async create (input: NewUser, now: Date) {
      if (userIdByEmail.has(input.email)) return null
      const id = input.id ?? randomId()
      if (users.has(id)) return null
      const user: User = {
        id,
        email: input.email,
        name: input.name,
        username: input.username,
        avatar: input.avatar ?? null,
        provider: input.provider,
        role: input.role ?? (users.size === 0 ? 'ADMIN' : 'USER'),
        emailVerified: input.emailVerified,
        emailVerifiedBy: input.emailVerifiedBy ?? null,
        passwordHash: input.passwordHash,
        disabledAt: null,
        createdAt: now,
        updatedAt: now
      }
      users.set(id, copy(user))
      userIdByEmail.set(user.email, id)
      return user
    },
    async findById (id) {
      const user = users.get(id)
      return user ? copy(user) : null
    },
    async findByEmail (email) {
      const id = userIdByEmail.get(email)
      return id === undefined ? null : copy(users.get(id) as User)
    },
    async list ({ offset, limit }) {
      // Map iteration is insertion order; the stable sort keeps it for equal creation times.
      return [...users.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).slice(offset, offset + limit).map(copy)
    },
    async update (id: string, patch: UserPatch, now: Date) {
      const user = users.get(id)
      if (!user) return null
      const updated: User = copy({ ...user, ...patch, updatedAt: now })
      users.set(id, updated)
      return copy(updated)
    },
    async delete (id, now) {
      const user = users.get(id)
      if (!user) return []
      users.delete(id)
      userIdByEmail.delete(user.email)
      for (const [key, identity] of identities) if (identity.userId === id) identities.delete(key)
      for (const [key, token] of tokens) if (token.userId === id) tokens.delete(key)
      const revoked: string[] = []
      for (const session of sessions.values()) {
        if (session.userId === id && session.revokedAt === null) {
          markRevoked(session, now)
          revoked.push(session.id)
        }
      }
      return revoked
    }
  }

  const identityStore: IdentityStore = {
    async create (identity) {
      const key = identityKey(identity.provider, identity.issuer, identity.subject)
      if (identities.has(key)) return null
      identities.set(key, copy(identity))
      return copy(identity)
    },
    async find (provider, issuer, subject) {
      const identity = identities.get(identityKey(provider, issuer, subject))
      return identity ? copy(identity) : null
    },
    async listByUser (userId) {
      return oldestFirst([...identities.values()].filter(i => i.userId === userId)).map(copy)
    },
    async update (key, { email, emailVerified }) {
      // Only these two fields, whatever else the patch object carries.
      const identity = identities.get(identityKey(key.provider, key.issuer, key.subject))
      if (!identity) return null
      Object.assign(identity, { email, emailVerified })
      return copy(identity)
    },
    async delete (key) {
      return identities.delete(identityKey(key.provider, key.issuer, key.subject))
    },
    async deleteUnverifiedForUser (userId) {
      const removed: Identity[] = []
      for (const [key, identity] of identities) {
        if (identity.userId === userId && !identity.emailVerified) {
          identities.delete(key)
          removed.push(identity)
        }
      }
      return oldestFirst(removed)
    }
  }

  const sessionStore: SessionStore = {
    async create (input: NewSession) {
      if (sessions.has(input.id)) throw new Error('duplicate session id')
      const session: Session = copy({
        ...input,
        previousTokenHash: null,
        rotatedAt: null,
        retiredTokenHashes: [],
        lastUsedAt: input.createdAt,
        revokedAt: null
      })
      sessions.set(session.id, session)
      return copy(session)
    },
    async findById (id) {
      const session = sessions.get(id)
      return session ? copy(session) : null
    },
    async rotate (id: string, expectedHash: string, next: Rotation) {
      const session = sessions.get(id)
      if (!session || session.refreshTokenHash !== expectedHash || !isLive(session, next.at)) return null
      const rotated: Session = copy({ ...session, ...rotationOf(session, next) })
      sessions.set(id, rotated)
      return copy(rotated)
    },
    async revoke (id, at) {
      const session = sessions.get(id)
      if (!session || session.revokedAt !== null) return false
      markRevoked(session, at)
      return true
    },
    async revokeAllForUser (userId, at, exceptId) {
      const revoked: string[] = []
      for (const session of sessions.values()) {
        if (session.userId === userId && session.id !== exceptId && session.revokedAt === null) {
          markRevoked(session, at)
          revoked.push(session.id)
        }
      }
      return revoked
    },
    async listLiveByUser (userId, now) {
      // Newest first; sessions created in the same millisecond, the later-created first (a stable sort of the reversed insertion order).
      return [...sessions.values()].reverse()
        .filter(s => s.userId === userId && isLive(s, now))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .map(copy)
    },
    async purge (before) {
      let count = 0
      for (const [id, session] of sessions) {
        if (endedAt(session) < before) {
          sessions.delete(id)
          revocationOrder.delete(id)
          count++
        }
      }
      return count
    },
    async listRevokedSince (from) {
      const listed = typeof from === 'string'
        ? (session: Session): boolean => (revocationOrder.get(session.id) as number) > Number(from)
        : (session: Session): boolean => (session.revokedAt as Date) >= from
      const revocations: Array<{ id: string, revokedAt: Date }> = []
      for (const session of sessions.values()) {
        if (session.revokedAt !== null && listed(session)) revocations.push({ id: session.id, revokedAt: new Date(session.revokedAt) })
      }
      return { revocations, cursor: String(revocationCount) as RevocationCursor }
    }
  }

  const tokenStore: OneTimeTokenStore = {
    async create (input: NewOneTimeToken) {
      const token: OneTimeToken = { ...copy(input), consumedAt: null }
      tokens.set(tokenKey(token.purpose, token.tokenHash), token)
      return copy(token)
    },
    async consume (purpose, tokenHash, now) {
      const token = tokens.get(tokenKey(purpose, tokenHash))
      if (!token || token.consumedAt !== null || token.expiresAt <= now) return null
      token.consumedAt = now
      return copy(token)
    },
    async purge (before) {
      let count = 0
      for (const [key, token] of tokens) {
        if (token.expiresAt < before || (token.consumedAt !== null && token.consumedAt < before)) {
          tokens.delete(key)
          count++
        }
      }
      return count
    },
    async deleteForUser (userId, purpose) {
      let count = 0
      for (const [key, token] of tokens) {
        if (token.userId === userId && (purpose === undefined || token.purpose === purpose)) {
          tokens.delete(key)
          count++
        }
      }
      return count
    }
  }

  return {
    kind: 'memory',
    users: userStore,
    identities: identityStore,
    sessions: sessionStore,
    oneTimeTokens: tokenStore,
    init: async () => {},
    close: async () => {}
  }
}
