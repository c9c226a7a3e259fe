import type { FastifyPluginAsync } from 'fastify'
import type { ResetSubmission } from '../lib/accounts/password-reset.ts'
import { contextOf } from './http/context.ts'
import { BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { messageResponse, type Schema } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

const requestBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  properties: { email: { type: 'string', maxLength: 320 } }
}

const resetBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'password', 'confirm_password'],
  properties: {
    token: { type: 'string', maxLength: 256 },
    password: { type: 'string', maxLength: 1024 },
    confirm_password: { type: 'string', maxLength: 1024 },
    userId: { type: 'string', maxLength: 64 }
  }
}

const requestResponse: Schema = {
  200: {
    description: 'The same answer whether or not the email has an account; `link` only in the unsafe mode (allowUnsafePasswordReset).',
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: { message: { type: 'string' }, link: { type: 'string' } }
  }
}

const SENT = 'If an account exists for that email, a link to reset the password has been sent.'

/** `librechat-auth/password-reset`: POST requestPasswordReset and resetPassword, LibreChat's paths. */
export const passwordResetPlugin: FastifyPluginAsync = subPlugin('password-reset', async function passwordReset (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.post<{ Body: { email: string } }>('/requestPasswordReset', {
    schema: documented({
      summary: 'Mail a password reset link',
      tags: ['password'],
      body: requestBody,
      response: {
        ...requestResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_PASSWORD_RESET_DISABLED', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('resetPassword')]
  }, async (request) => {
    const { link } = await lcauth.passwordReset.request(request.body.email, contextOf(request))
    // Only the explicitly enabled, production-refused unsafe mode ever returns a link.
    return link === undefined ? { message: SENT } : { message: SENT, link }
  })

  fastify.post<{ Body: ResetSubmission }>('/resetPassword', {
    schema: documented({
      summary: 'Set a new password with a reset link\'s token; every session of the user ends',
      tags: ['password'],
      body: resetBody,
      response: {
        ...messageResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_PASSWORD_RESET_DISABLED', 'FST_LCAUTH_PASSWORD_POLICY',
          'FST_LCAUTH_RESET_TOKEN_INVALID', 'FST_LCAUTH_BUSY', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('resetPasswordSubmission')]
  }, async (request) => {
    await lcauth.passwordReset.reset(request.body, contextOf(request))
    return { message: 'Your password has been reset. Every session was signed out: log in with the new password.' }
  })
})
