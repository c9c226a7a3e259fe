import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { configError } from '../lib/errors.ts'
import type { RouteModeration } from '../lib/moderation/limits.ts'
import { isBrowser } from '../lib/moderation/user-agent.ts'
import { contextOf } from './http/context.ts'
import type { Guards, Limiter, ModerationDeps } from './http/moderation-guard.ts'
import type { AuthHook, AuthUser } from './types.ts'

const FEATURES: readonly RouteModeration[] = ['message', 'concurrent', 'nonBrowser']

/**
 * Host routes opt into LibreChat's message moderation through `config: { lcauth: { moderation: [...] } }`.
 * An onRoute hook appends one preHandler after the route's own (authenticating first when the route did
 * not): the ban check, then the non-browser score, the message limiters and the in-flight limit.
 */
export function hostModeration (fastify: FastifyInstance, deps: ModerationDeps & { guards: Guards, authenticate: AuthHook }): void {
  const { guards, config, moderation, store, now } = deps
  const messageLimiters: Array<['messageIp' | 'messageUser', Limiter]> = []
  if (config.limitMessageIp) messageLimiters.push(['messageIp', guards.limiter('messageIp', request => moderation.keyOf(request.lcauthIp))])
  if (config.limitMessageUser) messageLimiters.push(['messageUser', guards.limiter('messageUser', request => (request.authUser as AuthUser).id)])

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const wanted = route.config?.lcauth?.moderation
    if (wanted === undefined) return
    if (!Array.isArray(wanted) || wanted.some(feature => !FEATURES.includes(feature))) {
      throw configError(`config.lcauth.moderation of ${route.method.toString()} ${route.url}`, `must list only ${FEATURES.join(', ')}`)
    }
    const message = wanted.includes('message')
    const concurrent = wanted.includes('concurrent') && config.limitConcurrentMessages
    const nonBrowser = wanted.includes('nonBrowser')

    const moderate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (request.authUser === null) await deps.authenticate(request, reply)
      const offender = { ip: request.lcauthIp, userId: (request.authUser as AuthUser).id }
      await guards.refuseBanned(request, reply, offender)
      // Only a score, never a refusal by itself (a header is no proof of anything).
      if (nonBrowser && !isBrowser(request.headers['user-agent'])) {
        await moderation.logViolation(offender, 'non_browser', config.scores.non_browser, contextOf(request))
      }
      if (message) {
        for (const [name, count] of messageLimiters) {
          const waitMs = await count(request)
          if (waitMs !== null) await guards.overLimit(request, reply, offender, name, waitMs)
        }
      }
      if (concurrent) await holdSlot(request, reply, offender)
    }

    /** Takes an in-flight slot of the user until the response is done or the client goes away. */
    const holdSlot = async (request: FastifyRequest, reply: FastifyReply, offender: { ip: string, userId: string }): Promise<void> => {
      const key = `concurrent:${offender.userId}`
      const count = await store.acquire(key, config.concurrentTtl, now())
      let held = true
      const release = (): void => {
        if (!held) return
        held = false
        // The store falls back to memory rather than fail; a lost release runs out with the TTL anyway.
        store.release(key, now()).catch(() => {})
      }
      if (count > config.concurrentMessageMax) {
        if (!config.dryRun) release()
        await guards.overLimit(request, reply, offender, 'concurrent', 1000)
      }
      reply.raw.once('close', release)
    }

    const own = route.preHandler
    route.preHandler = own === undefined ? [moderate] : [...(Array.isArray(own) ? own : [own]), moderate]
  })
}
