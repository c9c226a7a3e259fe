import type { FastifyInstance } from 'fastify'
import type { ResetSubmission } from '../lib/accounts/password-reset.ts'
import { contextOf } from './http/context.ts'
import type { RouteDeps } from './route-deps.ts'
import { messageResponse, type Schema } from './schemas.ts'

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

/** POST requestPasswordReset and resetPassword, LibreChat's paths. */
export async function passwordResetRoutes (fastify: FastifyInstance, deps: RouteDeps): Promise<void> {
  const prefix = deps.config.authPrefix

  fastify.post<{ Body: { email: string } }>(`${prefix}/requestPasswordReset`, {
    schema: { body: requestBody, response: requestResponse },
    onRequest: [deps.sameSite, deps.guard('resetPassword')]
  }, async (request) => {
    const { link } = await deps.passwordReset.request(request.body.email, contextOf(request))
    // Only the explicitly enabled, production-refused unsafe mode ever returns a link.
    return link === undefined ? { message: SENT } : { message: SENT, link }
  })

  fastify.post<{ Body: ResetSubmission }>(`${prefix}/resetPassword`, {
    schema: { body: resetBody, response: messageResponse },
    onRequest: [deps.sameSite, deps.guard('resetPasswordSubmission')]
  }, async (request) => {
    await deps.passwordReset.reset(request.body, contextOf(request))
    return { message: 'Your password has been reset. Every session was signed out: log in with the new password.' }
  })
}
