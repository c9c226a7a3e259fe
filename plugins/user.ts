import type { FastifyPluginAsync } from 'fastify'
import { publicUser } from '../lib/accounts/public-user.ts'
import { errors } from '../lib/errors.ts'
import { authUserOf } from './http/authenticate.ts'
import { absentBodyAsEmpty } from './http/body.ts'
import { contextOf } from './http/context.ts'
import { BEARER, BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS, TOKEN_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { messageResponse, publicUserSchema, reauthenticationBody } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

/** `librechat-auth/user`: GET the current user and DELETE their account. */
export const userPlugin: FastifyPluginAsync = subPlugin('user', async function user (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.delete<{ Body: { password?: string } }>('/delete', {
    schema: documented({
      summary: 'Delete the signed-in user\'s account and everything tied to it; the refresh cookie is cleared',
      tags: ['user'],
      security: BEARER,
      body: reauthenticationBody,
      response: {
        ...messageResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_UNAUTHORIZED', 'FST_LCAUTH_WRONG_PASSWORD', 'FST_LCAUTH_REAUTHENTICATION_REQUIRED',
          'FST_LCAUTH_ACCOUNT_DELETION_DISABLED', 'FST_LCAUTH_BUSY', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('accountDeletion')],
    // The body is optional: none at all is checked against the schema as `{}`.
    preValidation: absentBodyAsEmpty,
    preHandler: lcauth.authenticate
  }, async (request, reply) => {
    const { id, sessionId } = authUserOf(request)
    await lcauth.accounts.deleteAccount(id, sessionId, request.body.password, contextOf(request))
    kit.cookie.clear(reply)
    return { message: 'Your account has been deleted.' }
  })

  // The prefix itself (`/api/user`), without a trailing-slash twin.
  fastify.get('/', {
    prefixTrailingSlash: 'no-slash',
    schema: documented({
      summary: 'The signed-in user',
      tags: ['user'],
      security: BEARER,
      response: { 200: { ...publicUserSchema, description: 'The signed-in user, as stored now.' }, ...errorResponses(TOKEN_REFUSALS, 'FST_LCAUTH_STORAGE_UNAVAILABLE') }
    }),
    onRequest: guard(null),
    preHandler: lcauth.authenticate
  }, async (request) => {
    const found = await lcauth.storage.users.findById(authUserOf(request).id)
    if (found === null || found.disabledAt !== null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
    return publicUser(found)
  })
})
