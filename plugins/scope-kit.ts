import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { PublicUser } from '../lib/accounts/public-user.ts'
import type { Core } from '../lib/core.ts'
import type { VerifiedAccessToken } from '../lib/tokens/access-tokens.ts'
import type { IssuedSession } from '../lib/sessions/session-service.ts'
import type { RefuseBanned } from './http/ban-refusal.ts'
import type { Guards } from './http/moderation-guard.ts'
import type { RefreshCookie } from './http/refresh-cookie.ts'
import type { FlowCookie, OAuthFlow } from './oauth/flow-cookie.ts'

/**
 * What the plugin's encapsulated scope offers its sub-plugins, as the scope decorator `lcauthScope`
 * (the services themselves are on `fastify.lcauth`). Only the scope has it: the host app never sees it.
 */
export interface ScopeKit {
  /** The instance the plugin was registered on: host routes are declared there. */
  host: FastifyInstance
  /** The services with their internals (moderation's offender checks, the ban store, the revocation mirror). */
  core: Core
  cookie: RefreshCookie
  /** onRequest hook refusing cross-site requests (cookie-driven routes). */
  sameSite: (request: FastifyRequest) => Promise<void>
  /** Verifies an access token (expired ones included) without any other check. */
  verifyAccess: (token: string) => VerifiedAccessToken | null
  /** The one ban refusal (403 with Retry-After); `authenticate` uses the same. */
  refuseBanned: RefuseBanned
  /** Sets the refresh cookie and returns the `{ token, user }` body for a fresh or rotated session. */
  issue: (reply: FastifyReply, issued: IssuedSession) => Promise<{ token: string, user: PublicUser }>
  /** The signed cookie that carries a social or OpenID sign-in from the redirect to its callback. */
  oauthFlow: FlowCookie
  /**
   * How each enabled provider starts a flow: writes the flow cookie and returns the provider's
   * authorization URL. Filled by the provider sub-plugins; the linking routes use it too.
   */
  oauthStarts: Map<string, OAuthStart>
  /**
   * Where a user's logout should also send the browser (the OpenID provider's end-session URL), or
   * null; set by `librechat-auth/openid` when `OPENID_USE_END_SESSION_ENDPOINT` is on.
   */
  logoutRedirect: ((userId: string) => Promise<string | null>) | null
}

export type OAuthStart = (reply: FastifyReply, intent: OAuthFlow['intent'], userId: string | null) => Promise<string>

/** The decorators sub-plugins declare they need, so a wrong registration fails at once. */
export const SCOPE_KIT = 'lcauthScope'
export const GUARDS = 'lcauthGuards'

export function kitOf (fastify: FastifyInstance): ScopeKit {
  return (fastify as unknown as Record<typeof SCOPE_KIT, ScopeKit>)[SCOPE_KIT]
}

/** The limit and ban hooks, decorated on the scope by `librechat-auth/moderation`. */
export function guardsOf (fastify: FastifyInstance): Guards {
  return (fastify as unknown as Record<typeof GUARDS, Guards>)[GUARDS]
}
