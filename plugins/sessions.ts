import type { FastifyPluginAsync } from 'fastify'
import { errors } from '../lib/errors.ts'
import { authUserOf } from './http/authenticate.ts'
import { contextOf } from './http/context.ts'
import { BEARER, BODY_REFUSALS, documented, errorResponses, TOKEN_REFUSALS } from './route-docs.ts'
import { guardsOf, kitOf } from './scope-kit.ts'
import type { Schema } from './schemas.ts'
import { subPlugin } from './sub-plugin.ts'

const sessionList: Schema = {
  200: {
    description: 'The live sessions of the signed-in user; `current` marks the one making the request.',
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'createdAt', 'lastUsedAt', 'userAgent', 'ip', 'current'],
      properties: {
        id: { type: 'string' },
        createdAt: { type: 'string' },
        lastUsedAt: { type: 'string' },
        userAgent: { type: ['string', 'null'] },
        ip: { type: ['string', 'null'] },
        current: { type: 'boolean' }
      }
    }
  }
}

const sessionParams: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }
}

const ended: Schema = { 204: { description: 'Ended (no content).', type: 'null' } }

const revokeAllQuery: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { all: { type: 'string', enum: ['true', 'false'] } }
}

/** `librechat-auth/sessions`: the signed-in user's sessions: list them, end one, every other one, or all. */
export const sessionsPlugin: FastifyPluginAsync = subPlugin('sessions', async function sessions (fastify) {
  const { lcauth } = fastify
  const kit = kitOf(fastify)
  const { guard } = guardsOf(fastify)

  fastify.get('/sessions', {
    schema: documented({
      summary: 'List the signed-in user\'s sessions',
      tags: ['sessions'],
      security: BEARER,
      response: { ...sessionList, ...errorResponses(TOKEN_REFUSALS, 'FST_LCAUTH_STORAGE_UNAVAILABLE') }
    }),
    onRequest: guard(null),
    preHandler: lcauth.authenticate
  }, async (request) => {
    const user = authUserOf(request)
    const sessions = await lcauth.sessions.list(user.id)
    return sessions.map(s => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastUsedAt: s.lastUsedAt.toISOString(),
      userAgent: s.userAgent,
      ip: s.ip,
      current: s.id === user.sessionId
    }))
  })

  fastify.delete<{ Params: { id: string } }>('/sessions/:id', {
    schema: documented({
      summary: 'End one of the signed-in user\'s sessions (ending the current one clears the refresh cookie)',
      tags: ['sessions'],
      security: BEARER,
      params: sessionParams,
      response: { ...ended, ...errorResponses(BODY_REFUSALS, TOKEN_REFUSALS, 'FST_LCAUTH_NOT_FOUND', 'FST_LCAUTH_STORAGE_UNAVAILABLE') }
    }),
    onRequest: guard(null),
    preHandler: lcauth.authenticate
  }, async (request, reply) => {
    const user = authUserOf(request)
    if (!await lcauth.sessions.revokeOne(user.id, request.params.id, contextOf(request))) throw new errors.FST_LCAUTH_NOT_FOUND()
    if (request.params.id === user.sessionId) kit.cookie.clear(reply)
    return reply.code(204).send()
  })

  fastify.delete<{ Querystring: { all?: 'true' | 'false' } }>('/sessions', {
    schema: documented({
      summary: 'End every other session of the signed-in user; with ?all=true the current one too (and clear the refresh cookie)',
      tags: ['sessions'],
      security: BEARER,
      querystring: revokeAllQuery,
      response: { ...ended, ...errorResponses(BODY_REFUSALS, TOKEN_REFUSALS, 'FST_LCAUTH_STORAGE_UNAVAILABLE') }
    }),
    onRequest: guard(null),
    preHandler: lcauth.authenticate
  }, async (request, reply) => {
    const user = authUserOf(request)
    const all = request.query.all === 'true'
    await lcauth.sessions.revokeAll(user.id, all ? null : user.sessionId, 'user_request', contextOf(request))
    if (all) kit.cookie.clear(reply)
    return reply.code(204).send()
  })
})
