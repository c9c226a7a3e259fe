import type { RouteModeration } from '../lib/moderation/limits.ts'
import type { AuthUser, LcAuth } from './types.ts'

// The one place this package extends Fastify's types; the package face imports it.
declare module 'fastify' {
  interface FastifyInstance {
    lcauth: LcAuth
  }
  interface FastifyRequest {
    /** Null until `fastify.lcauth.authenticate` accepted the request's access token. */
    authUser: AuthUser | null
    /**
     * The client's address as the plugin sees it: the socket peer, or the X-Forwarded-For entry the
     * proxies listed in `trustProxy` vouch for. Limits, bans, sessions and events use it.
     */
    readonly lcauthIp: string
    /** The plugin's memo of the client's address and its limiter key; read `lcauthIp` instead. */
    lcauthClient: { ip: string, key: string } | null
  }
  interface FastifyContextConfig {
    /** The plugin's per-route settings on host routes. */
    lcauth?: {
      /** LibreChat's message limiters and checks for this route (`message`, `concurrent`, `nonBrowser`). */
      moderation?: readonly RouteModeration[]
    }
  }
}

export {}
