import type { FastifyRequest } from 'fastify'
import { noContext, type RequestContext } from '../lib/context.ts'
import type { ModerationService } from '../lib/moderation/moderation-service.ts'
import type { Ban } from '../lib/ports/ban-store.ts'
import { contextOf } from './http/context.ts'

/** `fastify.lcauth.moderation`: what a host app and an operator do with the moderation system. */
export interface ModerationApi {
  /**
   * Scores a violation of the host's own kind against the request's client and, when
   * `fastify.lcauth.authenticate` accepted it, its user; crossing a multiple of `BAN_INTERVAL` bans.
   */
  logViolation(request: FastifyRequest, type: string, score?: number): Promise<void>
  /** Bans a user for `durationMs` (default `BAN_DURATION`) and ends their sessions. FST_LCAUTH_NOT_FOUND when no user has the email. */
  banUser(email: string, durationMs?: number, context?: RequestContext): Promise<Ban | null>
  /** Lifts the ban of a user (by email) or an address; false when there was none. */
  lift(target: string, context?: RequestContext): Promise<boolean>
  /** Live bans. */
  list(): Promise<Ban[]>
}

export function moderationApi (service: ModerationService): ModerationApi {
  return {
    logViolation: (request, type, score = 1) => service.logViolation({ ip: request.lcauthIp, userId: request.authUser?.id ?? null }, type, score, contextOf(request)),
    banUser: (email, durationMs, context = noContext) => service.banUser(email, durationMs, context),
    lift: (target, context = noContext) => service.lift(target, context),
    list: () => service.list()
  }
}
