import type { FastifyPluginAsync } from 'fastify'
import { errors } from '../lib/errors.ts'
import { authUserOf } from './http/authenticate.ts'
import { absentBodyAsEmpty } from './http/body.ts'
import { contextOf } from './http/context.ts'
import { BEARER, BODY_REFUSALS, documented, errorResponses, GUARD_REFUSALS, TOKEN_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import { reauthenticationBody, type Schema } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

const identityList: Schema = {
  200: {
    description: 'The sign-ins linked to the signed-in user, oldest first. Never a provider token.',
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['provider', 'email', 'emailVerified', 'linkedAt'],
      properties: {
        provider: { type: 'string' },
        email: { type: ['string', 'null'] },
        emailVerified: { type: 'boolean' },
        linkedAt: { type: 'string' }
      }
    }
  }
}

const providerParams: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['provider'],
  properties: { provider: { type: 'string', minLength: 1, maxLength: 32 } }
}

const linkResponse: Schema = {
  200: {
    description: 'Open `url` in the browser (a top-level navigation): the provider asks for consent, then its callback links the sign-in.',
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: { url: { type: 'string' } }
  }
}

/** `librechat-auth/identities`: the signed-in user's linked sign-ins: list them, link one, unlink one. */
export const identitiesPlugin: FastifyPluginAsync = subPlugin('identities', async function identities (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)
  const { socialAccounts } = kit.core

  fastify.get('/identities', {
    schema: documented({ summary: 'List the sign-ins linked to the signed-in user', tags: ['user'], security: BEARER, response: { ...identityList, ...errorResponses(TOKEN_REFUSALS, 'FST_LCAUTH_STORAGE_UNAVAILABLE') } }),
    onRequest: guard(null),
    preHandler: lcauth.authenticate
  }, async (request) => socialAccounts.list(authUserOf(request).id))

  fastify.post<{ Params: { provider: string }, Body: { password?: string } }>('/identities/:provider', {
    schema: documented({
      summary: 'Start linking a provider sign-in to the signed-in user (re-authentication required)',
      tags: ['user'],
      security: BEARER,
      params: providerParams,
      body: reauthenticationBody,
      response: {
        ...linkResponse,
        ...errorResponses(BODY_REFUSALS, GUARD_REFUSALS, 'FST_LCAUTH_UNAUTHORIZED', 'FST_LCAUTH_NOT_FOUND', 'FST_LCAUTH_WRONG_PASSWORD',
          'FST_LCAUTH_REAUTHENTICATION_REQUIRED', 'FST_LCAUTH_BUSY', 'FST_LCAUTH_PROVIDER_UNAVAILABLE', 'FST_LCAUTH_STORAGE_UNAVAILABLE')
      }
    }),
    // The password check is a guessing target: counted like a password change.
    onRequest: [kit.sameSite, guard('passwordChange')],
    preValidation: absentBodyAsEmpty,
    preHandler: lcauth.authenticate
  }, async (request, reply) => {
    const start = kit.oauthStarts.get(request.params.provider)
    if (start === undefined) throw new errors.FST_LCAUTH_NOT_FOUND()
    const { id, sessionId } = authUserOf(request)
    await socialAccounts.confirmUser(id, sessionId, request.body.password)
    // An OpenID issuer that cannot be discovered right now throws ProviderFailure: the scope answers 503.
    return { url: await start(reply, 'link', id) }
  })

  fastify.delete<{ Params: { provider: string } }>('/identities/:provider', {
    schema: documented({
      summary: 'Unlink a provider sign-in from the signed-in user (never the last way to sign in)',
      tags: ['user'],
      security: BEARER,
      params: providerParams,
      response: { 204: { description: 'Unlinked (no content).', type: 'null' }, ...errorResponses(BODY_REFUSALS, TOKEN_REFUSALS, 'FST_LCAUTH_CROSS_SITE', 'FST_LCAUTH_NOT_FOUND', 'FST_LCAUTH_LAST_SIGN_IN_METHOD', 'FST_LCAUTH_STORAGE_UNAVAILABLE') }
    }),
    onRequest: [kit.sameSite, guard(null)],
    preHandler: lcauth.authenticate
  }, async (request, reply) => {
    await socialAccounts.unlink(authUserOf(request).id, request.params.provider, contextOf(request))
    return reply.code(204).send()
  })
})
