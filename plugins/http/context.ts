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
