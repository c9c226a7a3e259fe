import fastifyOauth2 from '@fastify/oauth2'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { randomToken } from '../../lib/crypto/random.ts'
import { ProviderFailure } from '../../lib/identities/provider-profile.ts'
import { fetchProfile } from '../../lib/identities/provider-api.ts'
import type { SocialProviderName } from '../../lib/identities/presets.ts'
import type { SocialProviderConfig } from '../../lib/identities/social-config.ts'
import { kitOf, type OAuthStart } from '../scope-kit.ts'
import { subPlugin } from '../sub-plugin.ts'
import type { OAuthFlow } from './flow-cookie.ts'
import { oauthRoutes, sha256 } from './routes.ts'

/** The part of simple-oauth2's client (which @fastify/oauth2 exposes as `.oauth2`) used here. */
interface OAuth2Client {
  authorizeURL(params: Record<string, string>): string
  getToken(params: Record<string, string>): Promise<{ token: Record<string, unknown> }>
}



/** The simple-oauth2 client of this provider, registered through @fastify/oauth2 in the provider's own scope. */
async function clientOf (fastify: FastifyInstance, provider: SocialProviderConfig, timeoutMs: number): Promise<OAuth2Client> {
  const decorator = `lcauthOAuth2${provider.name}`
  const authorize = new URL(provider.endpoints.authorizeUrl)
  const token = new URL(provider.endpoints.tokenUrl)
  await fastify.register(fastifyOauth2, {
    name: decorator,
    credentials: {
      client: { id: provider.clientId, secret: provider.clientSecret },
      auth: { authorizeHost: authorize.origin, authorizePath: authorize.pathname, tokenHost: token.origin, tokenPath: token.pathname },
      options: { authorizationMethod: provider.clientAuth },
      http: { timeout: timeoutMs }
    },
    // Static: never derived from the Host header of a request.
    callbackUri: provider.callbackUrl,
    scope: [...provider.scope],
    userAgent: 'librechat-auth'
  })
  return (fastify as unknown as Record<string, { oauth2: OAuth2Client }>)[decorator]!.oauth2
}

/** Why the code exchange failed, from simple-oauth2's (Wreck's) error; the provider's text stays out. */
function exchangeFailure (error: unknown): ProviderFailure {
  const boom = error as { isBoom?: boolean, message?: string, output?: { statusCode?: number } }
  if (boom.isBoom === true && boom.message === 'Client request timeout') return new ProviderFailure('timeout', 'the token endpoint did not answer in time')
  // Wreck reports an unreachable endpoint as a 502 of its own: the status says which it was.
  return new ProviderFailure('provider_error', `the token endpoint refused the code or was unreachable (${String(boom.output?.statusCode)})`)
}

/**
 * `librechat-auth/oauth-<provider>`: GET /oauth/<provider> starts a sign-in, GET /oauth/<provider>/callback
 * finishes it, and the provider is offered in `/api/auth/config` and to the linking routes.
 */
export function socialProviderPlugin (name: SocialProviderName): FastifyPluginAsync {
  return subPlugin(`oauth-${name}`, async function socialProvider (fastify) {
    const kit = kitOf(fastify)
    const { core } = kit
    // Not enabled (no credentials, or social login off): no route, nothing offered.
    const provider = core.config.socialLogin.providers.find(p => p.name === name)
    if (provider === undefined) return
    const client = await clientOf(fastify, provider, core.config.socialLogin.timeout)
    core.providers.add({ name, label: provider.label })

    /** Writes the flow cookie and answers the provider's authorization URL. */
    const start: OAuthStart = async (reply, intent, userId) => {
      const flow: OAuthFlow = { provider: name, state: randomToken(32), verifier: provider.pkce ? randomToken(32) : null, nonce: null, intent, userId }
      kit.oauthFlow.write(reply, flow)
      const pkce = flow.verifier === null ? {} : { code_challenge: sha256(flow.verifier).toString('base64url'), code_challenge_method: 'S256' }
      return client.authorizeURL({ redirect_uri: provider.callbackUrl, scope: provider.scope.join(' '), state: flow.state, ...pkce })
    }

    oauthRoutes(fastify, name, kit.oauthFlow, start, async ({ code, flow }) => {
      const exchange = { code, redirect_uri: provider.callbackUrl, ...(flow.verifier === null ? {} : { code_verifier: flow.verifier }) }
      const tokens = await client.getToken(exchange).catch((err: unknown) => { throw exchangeFailure(err) })
      const profile = await fetchProfile(provider, tokens.token, { timeoutMs: core.config.socialLogin.timeout, now: core.now })
      return { source: { provider: name, issuer: name }, profile }
    })
  })
}
