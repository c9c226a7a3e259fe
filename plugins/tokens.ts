import type { FastifyInstance } from 'fastify'
import { errors } from '../lib/errors.ts'
import { bearerToken } from './http/bearer.ts'
import { noBody } from './http/body.ts'
import { contextOf } from './http/context.ts'
import type { RouteDeps } from './route-deps.ts'
import { messageResponse, tokenResponse } from './schemas.ts'

/** POST refresh and logout: the refresh-cookie routes. */
export async function tokenRoutes (fastify: FastifyInstance, deps: RouteDeps): Promise<void> {
  const prefix = deps.config.authPrefix

  fastify.post(`${prefix}/refresh`, {
    schema: { response: tokenResponse },
    preValidation: noBody,
    onRequest: [deps.sameSite, deps.guard('refresh')]
  }, async (request, reply) => {
    const outcome = await deps.sessions.refresh(deps.cookie.read(request), contextOf(request))
    if (outcome.kind === 'rotated') return deps.issue(reply, outcome)
    // A lost two-tab race must not wipe the cookie the winning request just set.
    if (outcome.kind !== 'race') deps.cookie.clear(reply)
    throw outcome.kind === 'race'
      ? new errors.FST_LCAUTH_REFRESH_RACE()
      : outcome.kind === 'reused' ? new errors.FST_LCAUTH_REFRESH_REUSED() : new errors.FST_LCAUTH_REFRESH_INVALID()
  })

  fastify.post(`${prefix}/logout`, {
    schema: { response: messageResponse },
    preValidation: noBody,
    onRequest: deps.sameSite
  }, async (request, reply) => {
    const bearer = bearerToken(request)
    const verified = bearer === null ? null : deps.verifyAccess(bearer)
    await deps.sessions.logout(deps.cookie.read(request), verified?.claims.sid ?? null, contextOf(request))
    deps.cookie.clear(reply)
    return { message: 'Logged out.' }
  })
}
