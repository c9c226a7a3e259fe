import type { FastifyInstance } from 'fastify'
import { errors } from '../lib/errors.ts'
import { contextOf } from './http/context.ts'
import type { RouteDeps } from './route-deps.ts'
import { messageResponse, type Schema } from './schemas.ts'

const verifyBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'token'],
  properties: { email: { type: 'string', maxLength: 320 }, token: { type: 'string', maxLength: 256 } }
}

const resendBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  properties: { email: { type: 'string', maxLength: 320 } }
}

/** POST /api/user/verify and /verify/resend, LibreChat's paths. */
export async function emailVerificationRoutes (fastify: FastifyInstance, deps: RouteDeps): Promise<void> {
  const prefix = deps.config.userPrefix

  fastify.post<{ Body: { email: string, token: string } }>(`${prefix}/verify`, {
    schema: { body: verifyBody, response: messageResponse },
    onRequest: [deps.sameSite, deps.guard('verifyEmailSubmission')]
  }, async (request) => {
    // Without a mailer no verification token is ever issued, so every one is invalid.
    if (deps.verification === null) throw new errors.FST_LCAUTH_VERIFICATION_INVALID()
    await deps.verification.verify(request.body.email, request.body.token, contextOf(request))
    return { message: 'Your email address has been verified. You can now log in.' }
  })

  fastify.post<{ Body: { email: string } }>(`${prefix}/verify/resend`, {
    schema: { body: resendBody, response: messageResponse },
    onRequest: [deps.sameSite, deps.guard('verifyEmail')]
  }, async (request) => {
    await deps.verification?.resend(request.body.email, contextOf(request))
    return { message: 'If this address has an account waiting for verification, a new link has been sent.' }
  })
}
