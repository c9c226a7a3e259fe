import type { FastifyPluginAsync } from 'fastify'
import { errors } from '../lib/errors.ts'
import { bearerToken } from './http/bearer.ts'
import { noBody } from './http/body.ts'
import { refreshGuard } from './http/refresh-guard.ts'
import { contextOf } from './http/context.ts'
import { BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { type Schema, tokenResponse } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

const logoutResponse: Schema = {
  200: {
    description: 'Logged out; `redirect` (OpenID with OPENID_USE_END_SESSION_ENDPOINT) is the provider\'s logout page, for the browser to open.',
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: { message: { type: 'string' }, redirect: { type: 'string' } }
  }
}

/** `librechat-auth/tokens`: POST refresh and logout, the refresh-cookie routes. */
export const tokensPlugin: FastifyPluginAsync = subPlugin('tokens', async function tokens (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const limitRefresh = refreshGuard(guardsOf(fastify), { tokenOf: kit.cookie.read, opens: lcauth.sessions.opens })

  fastify.post('/refresh', {
    schema: documented({
      summary: 'Rotate the refresh cookie: a new access token and a new cookie',
      description: 'Reads the refresh cookie (HttpOnly, set by login); no body, or an empty JSON object.',
      tags: ['auth'],
      response: {
        ...tokenResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_REFRESH_INVALID', 'FST_LCAUTH_REFRESH_REUSED', 'FST_LCAUTH_REFRESH_RACE',
          'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    preValidation: noBody,
    onRequest: [kit.sameSite, limitRefresh]
  }, async (request, reply) => {
    const outcome = await lcauth.sessions.refresh(kit.cookie.read(request), contextOf(request))
    if (outcome.kind === 'rotated') return kit.issue(reply, outcome)
    // A lost two-tab race must not wipe the cookie the winning request just set.
    if (outcome.kind !== 'race') kit.cookie.clear(reply)
    throw outcome.kind === 'race'
      ? new errors.FST_LCAUTH_REFRESH_RACE()
      : outcome.kind === 'reused' ? new errors.FST_LCAUTH_REFRESH_REUSED() : new errors.FST_LCAUTH_REFRESH_INVALID()
  })

  fastify.post('/logout', {
    schema: documented({
      summary: 'End the session of the refresh cookie (or of the bearer token) and clear the cookie; always 200',
      description: 'Reads the refresh cookie, or an `Authorization: Bearer` access token (an expired one will do); no body, or an empty JSON object.',
      tags: ['auth'],
      response: {
        ...logoutResponse,
        ...errorResponses(BODY_REFUSALS, 'FST_LCAUTH_CROSS_SITE', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    preValidation: noBody,
    onRequest: kit.sameSite
  }, async (request, reply) => {
    const bearer = bearerToken(request)
    const verified = bearer === null ? null : kit.verifyAccess(bearer)
    const ended = await lcauth.sessions.logout(kit.cookie.read(request), verified?.claims.sid ?? null, contextOf(request))
    kit.cookie.clear(reply)
    const redirect = ended === null || kit.logoutRedirect === null ? null : await kit.logoutRedirect(ended.userId)
    return redirect === null ? { message: 'Logged out.' } : { message: 'Logged out.', redirect }
  })
})
