import type { FastifyInstance } from 'fastify'
import type { Credentials, RegistrationInput } from '../lib/accounts/account-service.ts'
import { contextOf } from './http/context.ts'
import type { RouteDeps } from './route-deps.ts'
import { loginBody, messageResponse, registerBody, tokenResponse } from './schemas.ts'

/** POST register and login: email and password accounts. */
export async function localRoutes (fastify: FastifyInstance, deps: RouteDeps): Promise<void> {
  const prefix = deps.config.authPrefix

  fastify.post<{ Body: RegistrationInput }>(`${prefix}/register`, {
    schema: { body: registerBody, response: messageResponse },
    onRequest: [deps.sameSite, deps.guard('register')]
  }, async (request) => {
    await deps.accounts.register(request.body, contextOf(request))
    // The same answer for a new and a taken email.
    return { message: deps.mailer === null ? 'Registration successful.' : 'Registration successful. Please check your email to verify your address.' }
  })

  fastify.post<{ Body: Credentials }>(`${prefix}/login`, {
    schema: { body: loginBody, response: tokenResponse },
    onRequest: [deps.sameSite, deps.guard('login')]
  }, async (request, reply) => {
    const issued = await deps.accounts.login(request.body, contextOf(request), deps.cookie.read(request))
    return deps.issue(reply, issued)
  })
}
