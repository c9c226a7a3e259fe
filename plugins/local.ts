import type { FastifyPluginAsync } from 'fastify'
import type { Credentials, RegistrationInput } from '../lib/accounts/account-service.ts'
import { contextOf } from './http/context.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { loginBody, messageResponse, registerBody, tokenResponse } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

/** `librechat-auth/local`: POST register and login, email and password accounts. */
export const localPlugin: FastifyPluginAsync = subPlugin('local', async function local (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.post<{ Body: RegistrationInput }>('/register', {
    schema: { body: registerBody, response: messageResponse },
    onRequest: [kit.sameSite, guard('register')]
  }, async (request) => {
    await lcauth.accounts.register(request.body, contextOf(request))
    // The same answer for a new and a taken email.
    return { message: lcauth.mail === null ? 'Registration successful.' : 'Registration successful. Please check your email to verify your address.' }
  })

  fastify.post<{ Body: Credentials }>('/login', {
    schema: { body: loginBody, response: tokenResponse },
    onRequest: [kit.sameSite, guard('login')]
  }, async (request, reply) => {
    const issued = await lcauth.accounts.login(request.body, contextOf(request), kit.cookie.read(request))
    return kit.issue(reply, issued)
  })
})
