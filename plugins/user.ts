import type { FastifyInstance } from 'fastify'
import { publicUser } from '../lib/accounts/public-user.ts'
import { errors } from '../lib/errors.ts'
import type { RouteDeps } from './route-deps.ts'
import { contextOf } from './http/context.ts'
import { optionalBody } from './http/body.ts'
import { messageResponse, publicUserSchema, type Schema } from './schemas.ts'
import type { AuthUser } from './types.ts'

const configResponse = {
  200: {
    type: 'object',
    additionalProperties: false,
    properties: {
      emailLoginEnabled: { type: 'boolean' },
      registrationEnabled: { type: 'boolean' },
      socialLoginEnabled: { type: 'boolean' },
      emailEnabled: { type: 'boolean' },
      passwordResetEnabled: { type: 'boolean' },
      socialLogins: { type: 'array', items: { type: 'string' } },
      googleLoginEnabled: { type: 'boolean' },
      githubLoginEnabled: { type: 'boolean' },
      discordLoginEnabled: { type: 'boolean' },
      facebookLoginEnabled: { type: 'boolean' },
      openidLoginEnabled: { type: 'boolean' },
      openidLabel: { type: 'string' },
      openidImageUrl: { type: 'string' },
      serverDomain: { type: 'string' },
      minPasswordLength: { type: 'integer' }
    }
  }
} as const

const deleteBody: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { password: { type: 'string', maxLength: 1024 } }
}

/** GET the current user and DELETE their account; GET the public configuration a login page needs. */
export async function userRoutes (fastify: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config } = deps

  fastify.delete<{ Body: { password?: string } | undefined }>(`${config.userPrefix}/delete`, {
    schema: { response: messageResponse },
    onRequest: [deps.sameSite, deps.guard('accountDeletion')],
    preValidation: optionalBody(deleteBody),
    preHandler: deps.authenticate
  }, async (request, reply) => {
    const user = request.authUser as AuthUser
    await deps.accounts.deleteAccount(user.id, user.sessionId, request.body?.password, contextOf(request))
    deps.cookie.clear(reply)
    return { message: 'Your account has been deleted.' }
  })

  fastify.get(config.userPrefix, {
    schema: { response: { 200: publicUserSchema } },
    onRequest: deps.guard(null),
    preHandler: deps.authenticate
  }, async (request) => {
    const user = await deps.storage.users.findById((request.authUser as { id: string }).id)
    if (user === null || user.disabledAt !== null) throw new errors.FST_LCAUTH_UNAUTHORIZED()
    return publicUser(user)
  })

  // LibreChat's field names, so its login page can read them as they are.
  const publicConfig = {
    emailLoginEnabled: config.allowEmailLogin,
    registrationEnabled: config.allowRegistration,
    socialLoginEnabled: config.allowSocialLogin,
    emailEnabled: deps.mailer !== null,
    passwordResetEnabled: deps.passwordReset.mode !== 'disabled',
    socialLogins: [],
    googleLoginEnabled: false,
    githubLoginEnabled: false,
    discordLoginEnabled: false,
    facebookLoginEnabled: false,
    openidLoginEnabled: false,
    openidLabel: 'Login with OpenID',
    openidImageUrl: '',
    serverDomain: config.domainServer,
    minPasswordLength: config.minPasswordLength
  }
  fastify.get(`${config.authPrefix}/config`, { schema: { response: configResponse } }, async () => publicConfig)
}
