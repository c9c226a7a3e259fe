import type { FastifyRequest } from 'fastify'
import type { RequestContext } from '../../lib/context.ts'

const MAX_USER_AGENT = 512

/** The facts about a request that services and events may see. */
export function contextOf (request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent']
  return {
    ip: request.lcauthIp,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
    requestId: request.id
  }
}

/** The key a request's client is counted under by limits and bans (IPv6 by its /64). */
export function clientKeyOf (request: FastifyRequest): string {
  // Reading lcauthIp fills the memo the key lives in.
  void request.lcauthIp
  return (request.lcauthClient as { key: string }).key
}
