import type { AuthUser, LcAuth } from './types.ts'

// The one place this package extends Fastify's types; the package face imports it.
declare module 'fastify' {
  interface FastifyInstance {
    lcauth: LcAuth
  }
  interface FastifyRequest {
    /** Null until `fastify.lcauth.authenticate` accepted the request's access token. */
    authUser: AuthUser | null
  }
}

export {}
