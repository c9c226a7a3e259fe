import type { FastifyRequest } from 'fastify'
import type { Clock } from '../../lib/clock.ts'
import { errors } from '../../lib/errors.ts'
import type { AuthEventEmitter } from '../../lib/events.ts'
import type { Role } from '../../lib/ports/storage.ts'
import type { VerifiedAccessToken } from '../../lib/tokens/access-tokens.ts'
import type { AuthHook, AuthUser } from '../types.ts'
import { bearerToken } from './bearer.ts'
import type { RefuseBanned } from './ban-refusal.ts'
import { clientKeyOf, contextOf } from './context.ts'

/**
 * The hooks host routes use. The hot path is a header read, a cached signature check, one Set lookup
 * in the revocation mirror and the address's ban from the local ban cache: no I/O while the cache is
 * warm.
 */
export function authenticators (deps: {
  verifyAccess: (token: string) => VerifiedAccessToken | null
  isRevoked: (sessionId: string) => boolean
  /** The ban refusal the guards use: a banned address gets 403 here too. */
  refuseBanned: RefuseBanned
  events: AuthEventEmitter
  now: Clock
}): { authenticate: AuthHook, requireRole: (role: Role) => AuthHook } {
  const { verifyAccess, isRevoked, refuseBanned, events, now } = deps
  const deny = (request: FastifyRequest, reason: 'missing' | 'invalid' | 'revoked' | 'role', userId: string | null): void => {
    events.emit('access.denied', { ...contextOf(request), at: now(), reason, userId })
  }

  const authenticate: AuthHook = async (request, reply) => {
    const token = bearerToken(request)
    const verified = token === null ? null : verifyAccess(token)
    if (verified === null || verified.expired) {
      deny(request, token === null ? 'missing' : 'invalid', null)
      throw new errors.FST_LCAUTH_UNAUTHORIZED()
    }
    const { claims } = verified
    if (isRevoked(claims.sid)) {
      deny(request, 'revoked', claims.sub)
      throw new errors.FST_LCAUTH_UNAUTHORIZED()
    }
    // The address's ban (a user's ban has already ended their sessions, so the mirror refused those).
    const banned = refuseBanned(request, reply, { ip: request.lcauthIp, key: clientKeyOf(request), userId: null })
    if (banned !== undefined) await banned
    request.authUser = { id: claims.sub, sessionId: claims.sid, email: claims.email, username: claims.username, role: claims.role, provider: claims.provider }
  }

  const requireRole = (role: Role): AuthHook => async (request, reply) => {
    if (request.authUser === null) await authenticate(request, reply)
    const user = request.authUser as { id: string, role: Role }
    if (user.role !== role) {
      deny(request, 'role', user.id)
      throw new errors.FST_LCAUTH_FORBIDDEN()
    }
  }

  return { authenticate, requireRole }
}

/** The user `authenticate` accepted: only for handlers that run after it. */
export function authUserOf (request: FastifyRequest): AuthUser {
  return request.authUser as AuthUser
}
