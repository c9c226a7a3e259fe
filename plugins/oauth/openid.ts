import type { FastifyPluginAsync } from 'fastify'
import * as oidc from 'openid-client'
import { holdsRole, openIdProfile, RoleSourceError, type RoleSources } from '../../lib/identities/openid-profile.ts'
import { ProviderFailure } from '../../lib/identities/provider-profile.ts'
import type { OpenIdConfig } from '../../lib/identities/openid-config.ts'
import { kitOf, type OAuthStart } from '../scope-kit.ts'
import { subPlugin } from '../sub-plugin.ts'
import { flowCookieFor } from './flow-cookie.ts'
import { openIdIssuer } from './openid-issuer.ts'
import { oauthRoutes, type Outcome } from './routes.ts'
import { SocialRefusal } from '../../lib/identities/social-accounts.ts'

type Json = Record<string, unknown>

/** How old an ID token may be when it arrives from the token endpoint. */
const MAX_ID_TOKEN_AGE_MS = 10 * 60_000

/** What openid-client throws (a refused token, a timeout, a connection error): its message goes to the log only. */
function grantFailure (error: unknown): ProviderFailure {
  return new ProviderFailure('provider_error', `the provider's answer was refused: ${(error as Error).message}`)
}

/** The role rules: the required role refuses the sign-in, the admin role decides ADMIN or USER. */
function rolesOf (config: OpenIdConfig, sources: RoleSources): Outcome['role'] {
  if (config.requiredRole !== null && !holdsRole(config.requiredRole, sources, 'OPENID_REQUIRED_ROLE_TOKEN_KIND (openid.requiredRoleTokenKind)')) throw new SocialRefusal('role_missing')
  if (config.adminRole === null) return undefined
  return holdsRole(config.adminRole, sources, 'OPENID_ADMIN_ROLE_TOKEN_KIND (openid.adminRoleTokenKind)') ? 'ADMIN' : 'USER'
}

/**
 * `librechat-auth/openid`: sign-in through any OpenID Connect issuer (openid-client v6): discovery,
 * PKCE S256, state and nonce in the signed flow cookie, the ID token checked (issuer, audience, expiry,
 * nonce, algorithm, signature), userinfo merged. Identities are (issuer, sub).
 */
export const openidPlugin: FastifyPluginAsync = subPlugin('openid', async function openid (fastify) {
  const kit = kitOf(fastify)
  const { core } = kit
  const config = core.config.openid
  // Not configured, or social login off: no route, nothing offered.
  if (config === null) return
  const issuer = openIdIssuer(config, { timeoutMs: core.config.socialLogin.timeout, log: fastify.log, now: core.now })
  const flows = config.sessionSecret === null ? kit.oauthFlow : flowCookieFor(core.config, config.sessionSecret, core.now)
  core.providers.add({ name: 'openid', label: config.label, ...(config.imageUrl === null ? {} : { imageUrl: config.imageUrl }) })
  // Discovered in the background at start, so a down issuer is in the log before anyone signs in.
  fastify.addHook('onReady', async () => { issuer.configuration().catch(() => {}) })

  const start: OAuthStart = async (reply, intent, userId) => {
    const configuration = await issuer.configuration()
    const flow = { provider: 'openid', state: oidc.randomState(), verifier: oidc.randomPKCECodeVerifier(), nonce: oidc.randomNonce(), intent, userId }
    flows.write(reply, flow)
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: config.callbackUrl,
      scope: config.scope,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256'
    }).href
  }

  oauthRoutes(fastify, 'openid', flows, start, async ({ query, flow }, request) => {
    const configuration = await issuer.configuration()
    // The URL the provider sent the browser to, rebuilt on the configured callback: never the Host header.
    const currentUrl = new URL(`${config.callbackUrl}${query}`)
    const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: flow.verifier as string,
      expectedState: flow.state,
      expectedNonce: flow.nonce as string,
      idTokenExpected: true
    }).catch((error: unknown) => { throw grantFailure(error) })
    const id = tokens.claims() as Json
    // Just issued at the exchange: an old `iat` is a token replayed from elsewhere.
    if (typeof id.iat !== 'number' || id.iat * 1000 < core.now().getTime() - MAX_ID_TOKEN_AGE_MS) throw new ProviderFailure('provider_error', 'the ID token was issued too long ago')
    const metadata = configuration.serverMetadata()
    const userinfo = metadata.userinfo_endpoint === undefined
      ? {}
      : await oidc.fetchUserInfo(configuration, tokens.access_token, id.sub as string).catch((error: unknown) => { throw grantFailure(error) }) as Json
    try {
      const role = rolesOf(config, { id, userinfo, accessToken: tokens.access_token })
      const profile = openIdProfile({ ...id, ...userinfo }, metadata.issuer, config.claims)
      return { source: { provider: 'openid', issuer: metadata.issuer }, profile, ...(role === undefined ? {} : { role }) }
    } catch (error) {
      if (!(error instanceof RoleSourceError)) throw error
      request.log.error({ event: 'lcauth.openid_role_unreadable', variable: error.variable }, error.message)
      throw new SocialRefusal('role_unreadable')
    }
  })

  if (config.postLogoutRedirectUri !== null) {
    const postLogout = config.postLogoutRedirectUri
    // Logout of a user who signed in here also ends their session at the provider (no ID token is kept
    // for an id_token_hint; client_id names the app instead).
    kit.logoutRedirect = async (userId) => {
      const identities = await core.storage.identities.listByUser(userId)
      if (!identities.some(i => i.provider === 'openid')) return null
      const configuration = await issuer.configuration().catch(() => null)
      if (configuration?.serverMetadata().end_session_endpoint === undefined) return null
      return oidc.buildEndSessionUrl(configuration, { post_logout_redirect_uri: postLogout }).href
    }
  }
})
