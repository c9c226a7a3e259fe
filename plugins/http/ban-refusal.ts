import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../../lib/clock.ts'
import { retryLater } from '../../lib/errors.ts'
import type { AuthEventEmitter } from '../../lib/events.ts'
import type { ModerationService, Offender } from '../../lib/moderation/moderation-service.ts'
import type { Ban } from '../../lib/ports/ban-store.ts'
import { contextOf } from './context.ts'

/**
 * Refuses the request with 403 FST_LCAUTH_BANNED and Retry-After when the offender (its address, and
 * its user when known) is banned; nothing is counted or scored. Returns a promise only when the local
 * ban cache cannot answer, so the hot path of a warm cache does no I/O and no await.
 */
export type RefuseBanned = (request: FastifyRequest, reply: FastifyReply, offender: Offender) => Promise<void> | undefined

/** The one ban refusal: the guards, the host-route moderation and `authenticate` all use it. */
export function banRefusal (deps: { banOf: ModerationService['banOf'], events: AuthEventEmitter, now: Clock }): RefuseBanned {
  const { banOf, events, now } = deps
  const refuse = (request: FastifyRequest, reply: FastifyReply, ban: Ban): never => {
    events.emit('moderation.refused', { ...contextOf(request), at: now(), subject: ban.subject, expiresAt: ban.expiresAt })
    const error = retryLater('FST_LCAUTH_BANNED', ban.expiresAt.getTime() - now().getTime())
    // Host routes answer through the host's error handler, which knows nothing of retryAfterSeconds.
    void reply.header('retry-after', String(error.retryAfterSeconds))
    throw error
  }
  return (request, reply, offender) => {
    const found = banOf(offender)
    if (found === null) return undefined
    if (found instanceof Promise) return found.then(ban => { if (ban !== null) refuse(request, reply, ban) })
    refuse(request, reply, found)
  }
}
