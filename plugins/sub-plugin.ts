import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { GUARDS, SCOPE_KIT } from './scope-kit.ts'

/**
 * Wraps a route area as a named sub-plugin of `librechat-auth`: it depends on the root and on the
 * moderation guards, needs the scope's kit (so registering it anywhere else fails at once), and is
 * encapsulated so the prefix it is registered with applies to its routes.
 */
export function subPlugin (name: string, plugin: (fastify: FastifyInstance) => Promise<void>): FastifyPluginAsync {
  return fp(plugin, {
    name: `librechat-auth/${name}`,
    fastify: '5.x',
    dependencies: ['librechat-auth', 'librechat-auth/moderation'],
    decorators: { fastify: ['lcauth', SCOPE_KIT, GUARDS] },
    encapsulate: true
  })
}
