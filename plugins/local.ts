import type { FastifyPluginAsync } from 'fastify'
import type { Credentials, RegistrationInput } from '../lib/accounts/account-service.ts'
import { contextOf } from './http/context.ts'
import { BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { loginBody, messageResponse, registerBody, tokenResponse } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

/** `librechat-auth/local`: POST register and login, email and password accounts. */
export const localPlugin: FastifyPluginAsync = subPlugin('local', async function local (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.post<{ Body: RegistrationInput }>('/register', {
    schema: documented({
      summary: 'Create an account with email and password (the same answer whether or not the email is taken)',
      tags: ['auth'],
      body: registerBody,
      response: {
        ...messageResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_PASSWORD_POLICY', 'FST_LCAUTH_REGISTRATION_DISABLED',
          'FST_LCAUTH_EMAIL_DOMAIN_NOT_ALLOWED', 'FST_LCAUTH_BUSY', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('register')]
  }, async (request) => {
    await lcauth.accounts.register(request.body, contextOf(request))
    // The same answer for a new and a taken email.
    return { message: lcauth.mail === null ? 'Registration successful.' : 'Registration successful. Please check your email to verify your address.' }
  })

  fastify.post<{ Body: Credentials }>('/login', {
    schema: documented({
      summary: 'Log in with email and password: an access token, and the refresh cookie',
      tags: ['auth'],
      body: loginBody,
      response: {
        ...tokenResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_INVALID_CREDENTIALS', 'FST_LCAUTH_ACCOUNT_DISABLED',
          'FST_LCAUTH_EMAIL_NOT_VERIFIED', 'FST_LCAUTH_EMAIL_LOGIN_DISABLED', 'FST_LCAUTH_BUSY', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    onRequest: [kit.sameSite, guard('login')]
  }, async (request, reply) => {
    const issued = await lcauth.accounts.login(request.body, contextOf(request), kit.cookie.read(request))
    return kit.issue(reply, issued)
  })
})
