import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { PasswordChange } from '../lib/accounts/account-service.ts'
import { errors } from '../lib/errors.ts'
import type { AuthUser } from './types.ts'
import { contextOf } from './http/context.ts'
import type { RouteDeps } from './route-deps.ts'
import { messageResponse, type Schema } from './schemas.ts'

const sessionList: Schema = {
  200: {
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

const revokeAllQuery: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { all: { type: 'string', enum: ['true', 'false'] } }
}

const passwordChangeBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['currentPassword', 'password', 'confirm_password'],
  properties: {
    currentPassword: { type: 'string', maxLength: 1024 },
    password: { type: 'string', maxLength: 1024 },
    confirm_password: { type: 'string', maxLength: 1024 }
  }
}

/** `authenticate` ran as a preHandler, so the user is there. */
const userOf = (request: FastifyRequest): AuthUser => request.authUser as AuthUser

/** The signed-in user's sessions: list them, end one or all, and change the password. */
export async function sessionRoutes (fastify: FastifyInstance, deps: RouteDeps): Promise<void> {
  const prefix = deps.config.authPrefix

  fastify.get(`${prefix}/sessions`, { schema: { response: sessionList }, onRequest: deps.guard(null), preHandler: deps.authenticate }, async (request) => {
    const user = userOf(request)
    const sessions = await deps.sessions.list(user.id)
    return sessions.map(s => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastUsedAt: s.lastUsedAt.toISOString(),
      userAgent: s.userAgent,
      ip: s.ip,
      current: s.id === user.sessionId
    }))
  })

  fastify.delete<{ Params: { id: string } }>(`${prefix}/sessions/:id`, {
    schema: { params: sessionParams },
    onRequest: deps.guard(null),
    preHandler: deps.authenticate
  }, async (request, reply) => {
    const user = userOf(request)
    if (!await deps.sessions.revokeOne(user.id, request.params.id, contextOf(request))) throw new errors.FST_LCAUTH_NOT_FOUND()
    if (request.params.id === user.sessionId) deps.cookie.clear(reply)
    return reply.code(204).send()
  })

  fastify.delete<{ Querystring: { all?: 'true' | 'false' } }>(`${prefix}/sessions`, {
    schema: { querystring: revokeAllQuery },
    onRequest: deps.guard(null),
    preHandler: deps.authenticate
  }, async (request, reply) => {
    const user = userOf(request)
    const all = request.query.all === 'true'
    await deps.sessions.revokeAll(user.id, all ? null : user.sessionId, 'user_request', contextOf(request))
    if (all) deps.cookie.clear(reply)
    return reply.code(204).send()
  })

  fastify.post<{ Body: PasswordChange }>(`${prefix}/password`, {
    schema: { body: passwordChangeBody, response: messageResponse },
    onRequest: [deps.sameSite, deps.guard('passwordChange')],
    preHandler: deps.authenticate
  }, async (request) => {
    const user = userOf(request)
    await deps.accounts.changePassword(user.id, user.sessionId, request.body, contextOf(request))
    return { message: 'Password changed. Every other session has been signed out.' }
  })
}
