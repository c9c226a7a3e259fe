import type { FastifyRequest } from 'fastify'
import { sessionIdOf } from '../../lib/sessions/refresh-token.ts'
import { clientKeyOf } from './context.ts'
import type { Guards, Hook } from './moderation-guard.ts'

/**
 * The limits of POST /refresh (DESIGN §7). A refresh carries a session, so `refresh`
 * (REFRESH_MAX/REFRESH_WINDOW) counts per session: the id the cookie names, parsed whether or not the
 * token turns out valid; a request without a readable cookie counts under its address. `refreshIp`
 * (REFRESH_IP_MAX) is the ceiling per address, high enough for a large NAT. Over either limit the
 * request gets 429; it scores a `refresh` violation (against the address, and the user of a valid
 * bearer) only when its cookie does not open a live session, so a valid session's refreshes never
 * bring a ban on the address it shares with others. That check costs a session lookup, and only
 * over a limit.
 */
export function refreshGuard (guards: Guards, deps: {
  /** The refresh cookie's value, or null. */
  tokenOf: (request: FastifyRequest) => string | null
  /** Whether the token is one a refresh would accept now. */
  opens: (token: string | null) => Promise<boolean>
}): Hook {
  const sessionKeyOf = (request: FastifyRequest): string => {
    const token = deps.tokenOf(request)
    const id = token === null ? null : sessionIdOf(token)
    return id === null ? clientKeyOf(request) : `session:${id}`
  }
  const ceiling = guards.limiter('refreshIp', clientKeyOf)
  const perSession = guards.limiter('refresh', sessionKeyOf)

  return async (request, reply) => {
    const offender = guards.offenderOf(request)
    const banned = guards.refuseBanned(request, reply, offender)
    if (banned !== undefined) await banned
    // Both counts at once: with Redis, one pipelined round trip.
    const [overAddress, overSession] = await Promise.all([ceiling(request), perSession(request)])
    if (overAddress === null && overSession === null) return
    const scored = !await deps.opens(deps.tokenOf(request))
    if (overAddress !== null) await guards.overLimit(request, reply, offender, 'refreshIp', overAddress, scored)
    if (overSession !== null) await guards.overLimit(request, reply, offender, 'refresh', overSession, scored)
  }
}
