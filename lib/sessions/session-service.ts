import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { randomId } from '../crypto/random.ts'
import type { AuthEventEmitter, AuthEvents } from '../events.ts'
import type { Session, Storage, User } from '../ports/storage.ts'
import { configError } from '../errors.ts'
import { newRefreshToken, refreshTokenHash, sessionIdOf } from './refresh-token.ts'
import { firstExpiry, isLive } from './session-state.ts'

export interface SessionPolicy {
  /** Live sessions a user may have; a new login ends the oldest beyond it. */
  maxPerUser: number
  /** Sliding lifetime of a refresh token, ms. */
  refreshTokenExpiry: number
  /** Absolute lifetime of a session, ms. */
  sessionMaxAge: number
  /** How long the previous token counts as a benign race, ms. */
  refreshReuseInterval: number
  /**
   * Key of the stored refresh-token hashes (`JWT_REFRESH_SECRET`). Null in an operator's process (the
   * CLI), which can list and end sessions but never issues, rotates or reads a refresh token.
   */
  refreshKey: string | null
}

export interface IssuedSession {
  session: Session
  refreshToken: string
  user: User
}

export type RefreshOutcome =
  | ({ kind: 'rotated' } & IssuedSession)
  | { kind: 'invalid' }
  | { kind: 'race' }
  | { kind: 'reused' }

export interface SessionService {
  /** Starts a new session for a user who just proved who they are. A live session presented with the login is ended (no fixation). */
  start(user: User, context: RequestContext, presentedToken: string | null): Promise<IssuedSession>
  /**
   * Rotates a refresh token. The previous token inside the reuse interval is a benign race (nothing
   * revoked); any other token this session issued before is reuse and ends the session; a token it
   * never issued is merely invalid, so knowing a session id is not enough to end someone's session.
   */
  refresh(presented: string | null, context: RequestContext): Promise<RefreshOutcome>
  /**
   * True when the token is one a refresh would accept now: the current token of a live session, or its
   * previous one inside the reuse interval (a two-tab race). Checks only: nothing changes, nothing is
   * emitted. Moderation asks it to tell a valid session from a forged or stale cookie.
   */
  opens(presented: string | null): Promise<boolean>
  /**
   * Ends the session the refresh cookie opens or, failing that, the session named by a validly
   * signed access token (`bearerSessionId`, expired or not). Returns what it ended, if anything.
   */
  logout(presentedToken: string | null, bearerSessionId: string | null, context: RequestContext): Promise<Session | null>
  /** The user's live sessions, newest first. */
  list(userId: string): Promise<Session[]>
  /** Ends one of the user's own live sessions; false when it is not theirs or not live. */
  revokeOne(userId: string, sessionId: string, context: RequestContext): Promise<boolean>
  /**
   * Ends every session of the user except `exceptId` (null: all); returns the ids ended. The one way
   * sessions end for account reasons (password change or reset, ban, role, disable, deletion).
   */
  revokeAll(userId: string, exceptId: string | null, reason: RevocationReason, context: RequestContext): Promise<string[]>
  /**
   * Announces sessions that storage already marked revoked (deleting a user does so in the same step):
   * the revocation mirror learns of them at once and `session.revoked` is emitted for each.
   */
  recordRevoked(userId: string, sessionIds: readonly string[], at: Date, reason: RevocationReason, context: RequestContext): void
}

export type RevocationReason = AuthEvents['session.revoked']['reason']

/** Creates, rotates and ends refresh sessions. Knows nothing of HTTP or cookies. */
export function sessionService (deps: {
  storage: Storage
  now: Clock
  events: AuthEventEmitter
  policy: SessionPolicy
  /** Told of every revocation this service makes, at once (the revocation mirror). */
  onRevoked: (sessionIds: readonly string[], at: Date) => void
}): SessionService {
  const { storage, now, events, policy, onRevoked } = deps
  const hashOf = (token: string): string => {
    if (policy.refreshKey === null) throw configError('jwtRefreshSecret', 'is required to issue or check refresh tokens')
    return refreshTokenHash(token, policy.refreshKey)
  }

  /** The session a presented token currently opens, or null. */
  async function liveSessionOf (token: string | null): Promise<Session | null> {
    const id = token === null ? null : sessionIdOf(token)
    if (id === null || token === null) return null
    const session = await storage.sessions.findById(id)
    return session !== null && isLive(session, now()) && session.refreshTokenHash === hashOf(token) ? session : null
  }

  /** The session's previous token, presented within the reuse interval of its rotation: a benign race. */
  const inRaceWindow = (session: Session, hash: string, at: Date): boolean =>
    session.previousTokenHash === hash && session.rotatedAt !== null && at.getTime() - session.rotatedAt.getTime() <= policy.refreshReuseInterval

  const revoked = (userId: string, ids: readonly string[], at: Date, reason: RevocationReason, context: RequestContext): void => {
    if (ids.length === 0) return
    onRevoked(ids, at)
    for (const sessionId of ids) events.emit('session.revoked', { ...context, at, userId, sessionId, reason })
  }

  async function revoke (session: Session, reason: RevocationReason, context: RequestContext): Promise<boolean> {
    const at = now()
    const done = await storage.sessions.revoke(session.id, at)
    if (done) revoked(session.userId, [session.id], at, reason, context)
    return done
  }

  /** Ends the oldest live sessions beyond the per-user limit; never the one just created. */
  async function enforceLimit (userId: string, keepId: string, context: RequestContext): Promise<void> {
    const others = (await storage.sessions.listLiveByUser(userId, now())).filter(s => s.id !== keepId)
    for (const session of others.slice(policy.maxPerUser - 1)) await revoke(session, 'session_limit', context)
  }

  return {
    async start (user: User, context: RequestContext, presentedToken: string | null): Promise<IssuedSession> {
      const previous = await liveSessionOf(presentedToken)
      if (previous) await revoke(previous, 'login_replaced', context)
      const at = now()
      const id = randomId()
      const refreshToken = newRefreshToken(id)
      const absoluteExpiresAt = new Date(at.getTime() + policy.sessionMaxAge)
      const session = await storage.sessions.create({
        id,
        userId: user.id,
        refreshTokenHash: hashOf(refreshToken),
        createdAt: at,
        expiresAt: firstExpiry(at, policy.refreshTokenExpiry, absoluteExpiresAt),
        absoluteExpiresAt,
        userAgent: context.userAgent,
        ip: context.ip
      })
      await enforceLimit(user.id, id, context)
      return { session, refreshToken, user }
    },

    async refresh (presented: string | null, context: RequestContext): Promise<RefreshOutcome> {
      const fail = (reason: 'missing' | 'malformed' | 'unknown_session' | 'not_live' | 'token_mismatch' | 'user_gone' | 'user_disabled', session: Session | null): RefreshOutcome => {
        events.emit('refresh.failure', { ...context, at: now(), reason, userId: session?.userId ?? null, sessionId: session?.id ?? null })
        return { kind: 'invalid' }
      }
      if (presented === null) return fail('missing', null)
      const id = sessionIdOf(presented)
      if (id === null) return fail('malformed', null)
      const hash = hashOf(presented)
      const at = now()
      const rotation = { refreshTokenHash: '', at, expiresAt: new Date(at.getTime() + policy.refreshTokenExpiry), userAgent: context.userAgent, ip: context.ip }
      const refreshToken = newRefreshToken(id)
      rotation.refreshTokenHash = hashOf(refreshToken)
      const rotated = await storage.sessions.rotate(id, hash, rotation)
      if (rotated) {
        const user = await storage.users.findById(rotated.userId)
        if (user === null || user.disabledAt !== null) {
          await revoke(rotated, 'user_state', context)
          return fail(user === null ? 'user_gone' : 'user_disabled', rotated)
        }
        events.emit('refresh.rotated', { ...context, at, userId: user.id, sessionId: id })
        return { kind: 'rotated', session: rotated, refreshToken, user }
      }
      // The swap lost: find out why from the session as it is now.
      const session = await storage.sessions.findById(id)
      if (session === null) return fail('unknown_session', null)
      if (!isLive(session, at)) return fail('not_live', session)
      if (inRaceWindow(session, hash, at)) {
        events.emit('refresh.race', { ...context, at, userId: session.userId, sessionId: id })
        return { kind: 'race' }
      }
      if (session.previousTokenHash === hash || session.retiredTokenHashes.includes(hash)) {
        await revoke(session, 'reuse', context)
        events.emit('refresh.reuse_detected', { ...context, at, userId: session.userId, sessionId: id })
        return { kind: 'reused' }
      }
      return fail('token_mismatch', session)
    },

    async opens (presented: string | null): Promise<boolean> {
      const id = presented === null ? null : sessionIdOf(presented)
      if (id === null || presented === null) return false
      const session = await storage.sessions.findById(id)
      const at = now()
      if (session === null || !isLive(session, at)) return false
      const hash = hashOf(presented)
      return session.refreshTokenHash === hash || inRaceWindow(session, hash, at)
    },

    async logout (presentedToken: string | null, bearerSessionId: string | null, context: RequestContext): Promise<Session | null> {
      let session = await liveSessionOf(presentedToken)
      if (session === null && bearerSessionId !== null) session = await storage.sessions.findById(bearerSessionId)
      if (session !== null) await revoke(session, 'logout', context)
      events.emit('logout', { ...context, at: now(), userId: session?.userId ?? null, sessionId: session?.id ?? null })
      return session
    },

    async list (userId) {
      return storage.sessions.listLiveByUser(userId, now())
    },

    async revokeOne (userId, sessionId, context) {
      const session = await storage.sessions.findById(sessionId)
      if (session === null || session.userId !== userId || !isLive(session, now())) return false
      return revoke(session, 'user_request', context)
    },

    async revokeAll (userId, exceptId, reason, context) {
      const at = now()
      const ids = await storage.sessions.revokeAllForUser(userId, at, exceptId ?? undefined)
      revoked(userId, ids, at, reason, context)
      return ids
    },

    recordRevoked: revoked
  }
}
