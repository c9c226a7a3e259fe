import fastifyJwt from '@fastify/jwt'
import { Ajv } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE } from '../lib/sessions/access-token.ts'
import { authErrorHandler } from './http/error-handler.ts'
import { moderationGuards } from './http/moderation-guard.ts'
import { localRoutes } from './local.ts'
import type { RouteDeps } from './route-deps.ts'
import { emailVerificationRoutes } from './email-verification.ts'
import { passwordResetRoutes } from './password-reset.ts'
import { sessionRoutes } from './sessions.ts'
import { tokenRoutes } from './tokens.ts'
import { userRoutes } from './user.ts'

export type AccessTokenSigner = (claims: Record<string, unknown>) => string

/**
 * The plugin's encapsulated scope: its own validator (unknown fields rejected, no coercion), its own
 * JSON-only body parser, error mapping and no-store caching, none of which touch the host app.
 */
export async function authScope (scope: FastifyInstance, options: { deps: Omit<RouteDeps, 'issue' | 'guard'>, issue: (sign: AccessTokenSigner) => RouteDeps['issue'] }): Promise<void> {
  const { deps } = options
  const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, strict: true })
  scope.setValidatorCompiler(({ schema }) => ajv.compile(schema))
  scope.setErrorHandler(authErrorHandler)

  // JSON only: a form or text body (a CORS "simple" request) gets 415. An empty body is allowed,
  // so refresh and logout can be called with no body at all.
  const parseJson = scope.getDefaultJsonParser('error', 'error')
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: deps.config.bodyLimit }, (request, body, done) => {
    if (body === '') {
      done(null, undefined)
      return
    }
    // parseAs: 'string' hands the body over as text.
    parseJson(request, body as string, done)
  })

  // Responses of these routes carry tokens or account state: never cached anywhere.
  scope.addHook('onSend', async (_request, reply) => {
    void reply.header('cache-control', 'no-store')
  })

  // @fastify/jwt under a namespace and its own decorator name, inside this scope only: it never claims
  // `request.user` or the host's `fastify.jwt`. The signer is configured once, here.
  await scope.register(fastifyJwt, {
    secret: deps.config.jwtSecret,
    namespace: 'lcauth',
    decoratorName: 'lcauthJwtPayload',
    sign: { algorithm: ACCESS_TOKEN_ALGORITHM, header: { alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYPE } }
  })
  const jwt = (scope.jwt as unknown as Record<'lcauth', { sign(payload: Record<string, unknown>): string }>).lcauth
  const guards = await moderationGuards(scope, deps.moderation)
  deps.onGuards(guards)
  const routeDeps: RouteDeps = { ...deps, issue: options.issue(claims => jwt.sign(claims)), guard: guards.guard }

  await localRoutes(scope, routeDeps)
  await tokenRoutes(scope, routeDeps)
  await sessionRoutes(scope, routeDeps)
  await passwordResetRoutes(scope, routeDeps)
  await emailVerificationRoutes(scope, routeDeps)
  await userRoutes(scope, routeDeps)
}
