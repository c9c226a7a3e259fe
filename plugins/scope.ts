import fastifyCookie from '@fastify/cookie'
import { Ajv } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { publicUser } from '../lib/accounts/public-user.ts'
import type { Core } from '../lib/core.ts'
import { endsAt } from '../lib/sessions/session-state.ts'
import type { RefuseBanned } from './http/ban-refusal.ts'
import { crossSiteGuard } from './http/cross-site.ts'
import { authErrorHandler } from './http/error-handler.ts'
import { refreshCookie } from './http/refresh-cookie.ts'
import { flowCookieFor } from './oauth/flow-cookie.ts'
import { SCOPE_KIT, type ScopeKit } from './scope-kit.ts'
import { SUB_PLUGINS } from './sub-plugins.ts'

/**
 * The plugin's encapsulated scope: its own validator (unknown fields rejected, no coercion), its own
 * JSON-only body parser, error mapping and no-store caching, none of which touch the host app. It
 * offers its sub-plugins the `lcauthScope` kit and registers them, each under its prefix.
 */
export function authScope (host: FastifyInstance, core: Core, refuseBanned: RefuseBanned): (scope: FastifyInstance) => Promise<void> {
  const { config } = core
  return async function lcauthScope (scope) {
    const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, strict: true })
    scope.setValidatorCompiler(({ schema }) => ajv.compile(schema))
    scope.setErrorHandler(authErrorHandler)

    // JSON only: a form or text body (a CORS "simple" request) gets 415. An empty body is allowed,
    // so refresh and logout can be called with no body at all.
    const parseJson = scope.getDefaultJsonParser('error', 'error')
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.bodyLimit }, (request, body, done) => {
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

    // One cookie stack: the host's @fastify/cookie when it registered one, else ours, in this scope only.
    if (!scope.hasRequestDecorator('cookies')) await scope.register(fastifyCookie)

    const cookie = refreshCookie(config.sessionCookieSecure)
    const kit: ScopeKit = {
      host,
      core,
      cookie,
      sameSite: crossSiteGuard([config.domainClient, config.domainServer]),
      verifyAccess: core.accessTokens.verify,
      refuseBanned,
      // The plugin always has both secrets (only the CLI's core lacks them).
      oauthFlow: flowCookieFor(config, config.jwtRefreshSecret as string, core.now),
      oauthStarts: new Map(),
      logoutRedirect: null,
      async issue (reply, issued) {
        const at = core.now()
        cookie.set(reply, issued.refreshToken, endsAt(issued.session), at)
        return { token: core.accessTokens.issue(issued.user, issued.session.id, at), user: publicUser(issued.user) }
      }
    }
    scope.decorate(SCOPE_KIT, kit)

    const prefixes = { auth: config.authPrefix, user: config.userPrefix, none: '' }
    for (const { plugin, prefix } of SUB_PLUGINS) await scope.register(plugin, { prefix: prefixes[prefix] })
  }
}
