import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { createCore } from '../lib/core.ts'
import { addressKey } from '../lib/moderation/client-address.ts'
import { resolveOptions } from '../lib/options/resolve.ts'
import type { AuthOptions } from '../lib/options/types.ts'
import { publicConfigOf } from '../lib/options/public-config.ts'
import { startupConfig } from '../lib/identities/startup-config.ts'
import { logEvents } from './event-log.ts'
import { authenticators } from './http/authenticate.ts'
import { banRefusal } from './http/ban-refusal.ts'
import { proxyTrust } from './http/client-address.ts'
import { proxyHint } from './http/proxy-hint.ts'
import { moderationApi } from './moderation-api.ts'
import { checkInjectedParts, openParts } from './open-parts.ts'
import { authScope } from './scope.ts'
import type { LcAuth } from './types.ts'

/**
 * The root plugin: validates the options, opens the ports, builds the one core, decorates
 * `fastify.lcauth`, and registers the named sub-plugins inside its encapsulated scope.
 */
async function authPlugin (fastify: FastifyInstance, options: AuthOptions): Promise<void> {
  // The one place the plugin looks at the environment: the default of the `production` option.
  // eslint-disable-next-line no-restricted-syntax
  const { config, warnings } = resolveOptions(options, process.env.NODE_ENV === 'production')
  checkInjectedParts(options)
  const parts = await openParts(options, config)
  if (parts.storage.kind === 'memory') warnings.push('storage is in memory: every account and session is lost when the process ends')
  if (parts.bans.kind === 'memory' && config.production) warnings.push('bans and limits are kept in memory: they reset on restart and are not shared between instances')
  for (const warning of warnings) fastify.log.warn({ event: 'lcauth.config_warning' }, warning)
  if (!config.allowRegistration) fastify.log.info({ event: 'lcauth.registration_closed' }, 'registration is closed: POST /api/auth/register answers 403 (ALLOW_REGISTRATION=true, or the allowRegistration option, opens it)')

  const core = createCore({
    ...parts,
    config,
    log: fastify.log,
    ...(options.hasher === undefined ? {} : { hasher: options.hasher }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.wait === undefined ? {} : { wait: options.wait }),
    ...(options.mailTemplates === undefined ? {} : { mailTemplates: options.mailTemplates }),
    ...(options.accessTokenClaims === undefined ? {} : { accessTokenClaims: options.accessTokenClaims })
  })
  if (config.logEvents) logEvents(core.events, fastify.log)
  fastify.addHook('onReady', core.start)
  fastify.addHook('onClose', core.close)

  // The client's address, worked out once per request on first use, with the key limits and bans count it under.
  const trust = proxyTrust(config.trustProxy)
  // Without a trust list, watch (until it has spoken once) for a proxy nobody told us about.
  let hint = config.trustProxy === undefined ? proxyHint(fastify.log) : null
  fastify.decorateRequest('lcauthClient', null)
  fastify.decorateRequest('lcauthIp', {
    getter (this: FastifyRequest): string {
      if (this.lcauthClient === null) {
        const peer = this.raw.socket?.remoteAddress
        if (hint !== null && hint(peer, this.headers['x-forwarded-for'])) hint = null
        const ip = trust.clientOf(peer, this.headers['x-forwarded-for'])
        this.lcauthClient = { ip, key: addressKey(ip) }
      }
      return this.lcauthClient.ip
    }
  })
  fastify.decorateRequest('authUser', null)

  const refuseBanned = banRefusal({ banOf: core.moderation.banOf, events: core.events, now: core.now })
  const { authenticate, requireRole } = authenticators({ verifyAccess: core.accessTokens.verify, isRevoked: core.mirror.isRevoked, refuseBanned, events: core.events, now: core.now })
  const lcauth: LcAuth = {
    authenticate,
    requireRole,
    accounts: core.accounts,
    sessions: core.sessions,
    admin: core.admin,
    passwordReset: core.passwordReset,
    emailVerification: core.emailVerification,
    mail: core.mail,
    events: core.events,
    storage: core.storage,
    moderation: moderationApi(core.moderation),
    providers: core.providers,
    socialAccounts: core.socialAccounts,
    startupConfig: () => startupConfig(core.config, core.providers, { mail: core.mail !== null, passwordReset: core.passwordReset.mode !== 'disabled' }),
    config: Object.freeze(publicConfigOf(config))
  }
  fastify.decorate('lcauth', lcauth)

  await fastify.register(authScope(fastify, core, refuseBanned))
}

/** The root plugin: `fastify.register(authPlugin, options)`. */
export const lcauthPlugin: FastifyPluginAsync<AuthOptions> = fp(authPlugin, { name: 'librechat-auth', fastify: '5.x' })
