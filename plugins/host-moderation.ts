import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { configError } from '../lib/errors.ts'
import { type LimiterName, ROUTE_MODERATION } from '../lib/moderation/limits.ts'
import { isBrowser } from '../lib/moderation/user-agent.ts'
import { clientKeyOf, contextOf } from './http/context.ts'
import type { Guards, Limiter, ModerationDeps } from './http/moderation-guard.ts'
import type { AuthHook, AuthUser } from './types.ts'

const NO_WAITS: ReadonlyArray<number | null> = []

/**
 * Host routes opt into LibreChat's message moderation through `config: { lcauth: { moderation: [...] } }`.
 * An onRoute hook appends one preHandler after the route's own (authenticating first when the route did
 * not): the ban check, then the non-browser score, the message limiters and the in-flight limit.
 */
export function hostModeration (fastify: FastifyInstance, deps: ModerationDeps & { guards: Guards, authenticate: AuthHook }): void {
  const { guards, config, moderation, store, now } = deps
  const messageLimiters: Array<['messageIp' | 'messageUser', Limiter]> = []
  if (config.limitMessageIp) messageLimiters.push(['messageIp', guards.limiter('messageIp', clientKeyOf)])
  if (config.limitMessageUser) messageLimiters.push(['messageUser', guards.limiter('messageUser', request => (request.authUser as AuthUser).id)])

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const wanted = route.config?.lcauth?.moderation
    if (wanted === undefined) return
    if (!Array.isArray(wanted) || wanted.some(feature => !ROUTE_MODERATION.includes(feature))) {
      throw configError(`config.lcauth.moderation of ${route.method.toString()} ${route.url}`, `must list only ${ROUTE_MODERATION.join(', ')}`)
    }
    const message = wanted.includes('message')
    const concurrent = wanted.includes('concurrent') && config.limitConcurrentMessages
    const nonBrowser = wanted.includes('nonBrowser')

    const moderate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (request.authUser === null) await deps.authenticate(request, reply)
      const offender = { ip: request.lcauthIp, key: clientKeyOf(request), userId: (request.authUser as AuthUser).id }
      const banned = guards.refuseBanned(request, reply, offender)
      if (banned !== undefined) await banned
      // Only a score, never a refusal by itself (a header is no proof of anything).
      if (nonBrowser && !isBrowser(request.headers['user-agent'])) {
        await moderation.logViolation(offender, 'non_browser', config.scores.non_browser, contextOf(request))
      }
      // Every counter of the request at once: with Redis, one pipelined round trip.
      const slotKey = `concurrent:${offender.userId}`
      const [waits, inFlight] = await Promise.all([
        message ? Promise.all(messageLimiters.map(([, count]) => count(request))) : NO_WAITS,
        concurrent ? store.acquire(slotKey, config.concurrentTtl, now()) : 0
      ])
      const release = concurrent ? releaser(slotKey) : null
      try {
        for (const [i, waitMs] of waits.entries()) {
          if (waitMs !== null) await guards.overLimit(request, reply, offender, (messageLimiters[i] as [LimiterName, Limiter])[0], waitMs)
        }
        if (inFlight > config.concurrentMessageMax) await guards.overLimit(request, reply, offender, 'concurrent', 1000)
      } catch (refusal) {
        release?.()
        throw refusal
      }
      // Held until the response is done or the client goes away; a dry run holds it too.
      if (release !== null) reply.raw.once('close', release)
    }

    /** Gives an in-flight slot back (called once: on a refusal, or on the response's close). */
    const releaser = (key: string): (() => void) => () => {
      // The store falls back to memory rather than fail; a lost release runs out with the TTL anyway.
      store.release(key, now()).catch(() => {})
    }

    const own = route.preHandler
    route.preHandler = own === undefined ? [moderate] : [...(Array.isArray(own) ? own : [own]), moderate]
  })
}
