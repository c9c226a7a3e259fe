import type { FastifyPluginAsync } from 'fastify'
import { errors } from '../lib/errors.ts'
import { contextOf } from './http/context.ts'
import { BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { messageResponse, type Schema } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

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

/** `librechat-auth/email-verification`: POST /api/user/verify and /verify/resend, LibreChat's paths. */
export const emailVerificationPlugin: FastifyPluginAsync = subPlugin('email-verification', async function emailVerification (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.post<{ Body: { email: string, token: string } }>('/verify', {
    schema: documented({
      summary: 'Verify an email address with the token of a verification link',
      tags: ['user'],
      body: verifyBody,
      response: {
        ...messageResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_VERIFICATION_INVALID', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('verifyEmailSubmission')]
  }, async (request) => {
    // Without a mailer no verification token is ever issued, so every one is invalid.
    if (lcauth.emailVerification === null) throw new errors.FST_LCAUTH_VERIFICATION_INVALID()
    await lcauth.emailVerification.verify(request.body.email, request.body.token, contextOf(request))
    return { message: 'Your email address has been verified. You can now log in.' }
  })

  fastify.post<{ Body: { email: string } }>('/verify/resend', {
    schema: documented({
      summary: 'Mail a new verification link (the same answer whatever the email)',
      tags: ['user'],
      body: resendBody,
      response: { ...messageResponse, ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_STORAGE_UNAVAILABLE') }
    }),
    onRequest: [kit.sameSite, guard('verifyEmail')]
  }, async (request) => {
    await lcauth.emailVerification?.resend(request.body.email, contextOf(request))
    return { message: 'If this address has an account waiting for verification, a new link has been sent.' }
  })
})
