import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../../lib/clock.ts'
import { retryLater } from '../../lib/errors.ts'
import type { AuthEventEmitter } from '../../lib/events.ts'
import type { ModerationConfig } from '../../lib/moderation/config.ts'
import { LIMITERS, type LimiterName } from '../../lib/moderation/limits.ts'
import type { ModerationService, Offender } from '../../lib/moderation/moderation-service.ts'
import type { BanStore } from '../../lib/ports/ban-store.ts'
import type { RefuseBanned } from './ban-refusal.ts'
import { clientKeyOf, contextOf } from './context.ts'
import { rateLimitStore } from './rate-limit-store.ts'

/**
 * Limiter keys. Bumped whenever the text of a key changes (v2: IPv6 /64 keys in compressed form),
 * so counts kept under the old text are left to expire instead of being misread.
 */
export const LIMIT_KEY_PREFIX = 'limit:v2:'

export type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** Counts one request against a limiter; returns the wait in ms when it is over the limit, else null. */
export type Limiter = (request: FastifyRequest) => Promise<number | null>

export interface ModerationDeps {
  moderation: ModerationService
  config: ModerationConfig
  store: BanStore
  events: AuthEventEmitter
  now: Clock
  /** The user a valid (unexpired, unrevoked) access token names, or null: the only way a user gets scored. */
  userOf: (request: FastifyRequest) => string | null
  /** The one ban refusal, shared with `authenticate`. */
  refuseBanned: RefuseBanned
}

export interface Guards {
  /**
   * onRequest hook for the plugin's own routes: a banned client (or token holder) gets 403 before
   * anything else runs, then the request counts against `limiter` and past its max gets 429 and scores
   * a violation. `null`: the ban check only.
   */
  guard(limiter: LimiterName | null): Hook
  /** The raw limiters, for host routes. */
  limiter(name: LimiterName, keyOf: (request: FastifyRequest) => string): Limiter
  /** Refuses the request when the offender is banned (nothing counted). Returns a promise only when the answer is not cached. */
  refuseBanned: RefuseBanned
  /**
   * Emits, scores (unless `scored` is false: nobody is held to account) and, unless in dry run, refuses
   * a request a limiter turned down.
   */
  overLimit(request: FastifyRequest, reply: FastifyReply, offender: Offender, limiter: LimiterName | 'concurrent', waitMs: number, scored?: boolean): Promise<void>
  /** Who a request's violations count against: its address, and the user of a valid bearer token. */
  offenderOf(request: FastifyRequest): Offender
}

/**
 * Registers @fastify/rate-limit in the plugin's scope, counting in the ban store, and builds the hooks
 * that run limiters through `createRateLimit()`: our hooks decide what a hit means (score, ban, dry run).
 */
export async function moderationGuards (scope: FastifyInstance, deps: ModerationDeps): Promise<Guards> {
  const { moderation, config, events, now, refuseBanned } = deps
  await scope.register(rateLimit, { global: false, store: rateLimitStore(deps.store, now) })

  const offenderOf = (request: FastifyRequest): Offender => ({ ip: request.lcauthIp, key: clientKeyOf(request), userId: deps.userOf(request) })

  const limiter = (name: LimiterName, keyOf: (request: FastifyRequest) => string): Limiter => {
    const { max, windowMs } = config.limits[name]
    const check = scope.createRateLimit({ max, timeWindow: windowMs, keyGenerator: request => `${LIMIT_KEY_PREFIX}${name}:${keyOf(request)}` })
    return async request => {
      const result = await check(request)
      return !result.isAllowed && result.isExceeded ? result.ttl : null
    }
  }


  const overLimit = async (request: FastifyRequest, reply: FastifyReply, offender: Offender, name: LimiterName | 'concurrent', waitMs: number, scored = true): Promise<void> => {
    const context = contextOf(request)
    events.emit('moderation.limited', { ...context, at: now(), limiter: name, userId: offender.userId, dryRun: config.dryRun })
    const type = name === 'concurrent' ? 'concurrent' : LIMITERS[name].type
    if (type !== null && scored) await moderation.logViolation(offender, type, config.scores[type], context)
    if (config.dryRun) return
    const error = retryLater('FST_LCAUTH_RATE_LIMITED', waitMs)
    void reply.header('retry-after', String(error.retryAfterSeconds))
    throw error
  }

  const guard = (name: LimiterName | null): Hook => {
    const count = name === null ? null : limiter(name, clientKeyOf)
    return async (request, reply) => {
      const offender = offenderOf(request)
      const banned = refuseBanned(request, reply, offender)
      if (banned !== undefined) await banned
      const waitMs = count === null ? null : await count(request)
      if (waitMs !== null) await overLimit(request, reply, offender, name as LimiterName, waitMs)
    }
  }

  return { guard, limiter, refuseBanned, overLimit, offenderOf }
}
