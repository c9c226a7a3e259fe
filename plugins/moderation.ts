import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { bearerToken } from './http/bearer.ts'
import { moderationGuards, type ModerationDeps } from './http/moderation-guard.ts'
import { hostModeration } from './host-moderation.ts'
import { GUARDS, kitOf, SCOPE_KIT } from './scope-kit.ts'

/**
 * `librechat-auth/moderation`: limits and bans. It registers @fastify/rate-limit in the plugin's scope
 * (never the host's), decorates the scope with the guards the route sub-plugins put in front of their
 * routes, and adds the onRoute hook through which host routes opt into LibreChat's message limiters.
 * That hook goes on the host's instance: onRoute hooks only see routes of their own instance.
 */
async function moderation (fastify: FastifyInstance): Promise<void> {
  const { host, core, refuseBanned } = kitOf(fastify)
  const deps: ModerationDeps = {
    moderation: core.moderation,
    config: core.config.moderation,
    store: core.bans,
    events: core.events,
    now: core.now,
    // The guards run before authentication (onRequest), so they read the bearer themselves.
    userOf: request => {
      const token = bearerToken(request)
      const verified = token === null ? null : core.accessTokens.verify(token)
      return verified === null || verified.expired || core.mirror.isRevoked(verified.claims.sid) ? null : verified.claims.sub
    },
    refuseBanned
  }
  const guards = await moderationGuards(fastify, deps)
  fastify.decorate(GUARDS, guards)
  hostModeration(host, { ...deps, guards, authenticate: fastify.lcauth.authenticate })
}

export const moderationPlugin: FastifyPluginAsync = fp(moderation, {
  name: 'librechat-auth/moderation',
  fastify: '5.x',
  dependencies: ['librechat-auth'],
  decorators: { fastify: ['lcauth', SCOPE_KIT] }
})
