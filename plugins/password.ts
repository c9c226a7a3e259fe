import type { FastifyPluginAsync } from 'fastify'
import type { PasswordChange } from '../lib/accounts/account-service.ts'
import { authUserOf } from './http/authenticate.ts'
import { contextOf } from './http/context.ts'
import { BEARER, BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { messageResponse, type Schema } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

const passwordChangeBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['currentPassword', 'password', 'confirm_password'],
  properties: {
    currentPassword: { type: 'string', maxLength: 1024 },
    password: { type: 'string', maxLength: 1024 },
    confirm_password: { type: 'string', maxLength: 1024 }
  }
}

/** `librechat-auth/password`: POST password, a signed-in user changes their password; every other session ends. */
export const passwordPlugin: FastifyPluginAsync = subPlugin('password', async function password (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.post<{ Body: PasswordChange }>('/password', {
    schema: documented({
      summary: 'Change the signed-in user\'s password; every other session ends',
      tags: ['password'],
      security: BEARER,
      body: passwordChangeBody,
      response: {
        ...messageResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_UNAUTHORIZED', 'FST_LCAUTH_WRONG_PASSWORD', 'FST_LCAUTH_PASSWORD_POLICY',
          'FST_LCAUTH_BUSY', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('passwordChange')],
    preHandler: lcauth.authenticate
  }, async (request) => {
    const user = authUserOf(request)
    await lcauth.accounts.changePassword(user.id, user.sessionId, request.body, contextOf(request))
    return { message: 'Password changed. Every other session has been signed out.' }
  })
})
