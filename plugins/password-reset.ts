import type { FastifyPluginAsync } from 'fastify'
import type { ResetSubmission } from '../lib/accounts/password-reset.ts'
import { contextOf } from './http/context.ts'
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
    schema: { body: requestBody, response: requestResponse },
    onRequest: [kit.sameSite, guard('resetPassword')]
  }, async (request) => {
    const { link } = await lcauth.passwordReset.request(request.body.email, contextOf(request))
    // Only the explicitly enabled, production-refused unsafe mode ever returns a link.
    return link === undefined ? { message: SENT } : { message: SENT, link }
  })

  fastify.post<{ Body: ResetSubmission }>('/resetPassword', {
    schema: { body: resetBody, response: messageResponse },
    onRequest: [kit.sameSite, guard('resetPasswordSubmission')]
  }, async (request) => {
    await lcauth.passwordReset.reset(request.body, contextOf(request))
    return { message: 'Your password has been reset. Every session was signed out: log in with the new password.' }
  })
})
