import type { FastifyPluginAsync } from 'fastify'
import { publicUser } from '../lib/accounts/public-user.ts'
import { errors } from '../lib/errors.ts'
import { authUserOf } from './http/authenticate.ts'
import { absentBodyAsEmpty } from './http/body.ts'
import { contextOf } from './http/context.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { messageResponse, publicUserSchema, type Schema } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

const deleteBody: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { password: { type: 'string', maxLength: 1024 } }
}

/** `librechat-auth/user`: GET the current user and DELETE their account. */
export const userPlugin: FastifyPluginAsync = subPlugin('user', async function user (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.delete<{ Body: { password?: string } }>('/delete', {
    schema: { body: deleteBody, response: messageResponse },
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
    schema: { response: { 200: publicUserSchema } },
    onRequest: guard(null),
    preHandler: lcauth.authenticate
  }, async (request) => {
    const found = await lcauth.storage.users.findById(authUserOf(request).id)
    if (found === null || found.disabledAt !== null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
    return publicUser(found)
  })
})
