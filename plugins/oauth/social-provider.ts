import fastifyOauth2 from '@fastify/oauth2'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import { randomToken } from '../../lib/crypto/random.ts'
import type { OAuthFailureReason } from '../../lib/events.ts'
import { ProviderFailure } from '../../lib/identities/provider-profile.ts'
import { fetchProfile } from '../../lib/identities/provider-api.ts'
import type { SocialProviderName } from '../../lib/identities/presets.ts'
import type { SocialProviderConfig } from '../../lib/identities/social-config.ts'
import { contextOf } from '../http/context.ts'
import { documented } from '../route-docs.ts'
import { guardsOf, kitOf, type OAuthStart } from '../scope-kit.ts'
import { subPlugin } from '../sub-plugin.ts'
import { FLOW_LIFETIME_MS, type OAuthFlow } from './flow-cookie.ts'
import { fail, failureOf, landing } from './outcome.ts'

/** The part of simple-oauth2's client (which @fastify/oauth2 exposes as `.oauth2`) used here. */
interface OAuth2Client {
  authorizeURL(params: Record<string, string>): string
  getToken(params: Record<string, string>): Promise<{ token: Record<string, unknown> }>
}

interface CallbackQuery { state?: string, code?: string, error?: string }

const callbackQuery = {
  type: 'object',
  // Providers add their own parameters (scope, authuser, prompt, error_description...): read only these.
  properties: { state: { type: 'string', maxLength: 2048 }, code: { type: 'string', maxLength: 4096 }, error: { type: 'string', maxLength: 256 } }
} as const

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest()
const sameText = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b))

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
    const { guard } = guardsOf(fastify)
    // Not enabled (no credentials, or social login off): no route, nothing offered.
    const provider = core.config.socialLogin.providers.find(p => p.name === name)
    if (provider === undefined) return
    const client = await clientOf(fastify, provider, core.config.socialLogin.timeout)
    core.providers.add({ name, label: provider.label })

    /** Writes the flow cookie and answers the provider's authorization URL. */
    const start: OAuthStart = (reply, intent, userId) => {
      const flow: OAuthFlow = { provider: name, state: randomToken(32), verifier: provider.pkce ? randomToken(32) : null, nonce: null, intent, userId }
      kit.oauthFlow.write(reply, flow)
      const pkce = flow.verifier === null ? {} : { code_challenge: sha256(flow.verifier).toString('base64url'), code_challenge_method: 'S256' }
      return client.authorizeURL({ redirect_uri: provider.callbackUrl, scope: provider.scope.join(' '), state: flow.state, ...pkce })
    }
    kit.oauthStarts.set(name, start)

    // Guard refusals (a ban, the login limit) and anything unexpected end as the generic failure
    // redirect too: these routes are browser navigations, not API calls.
    fastify.setErrorHandler(async (error, request, reply) => {
      const read = kit.oauthFlow.read(request)
      kit.oauthFlow.clear(reply)
      return fail(core, request, reply, name, read.ok ? read.flow.intent : 'login', failureOf(error), error)
    })

    fastify.get(`/oauth/${name}`, {
      schema: documented({ summary: `Start signing in with ${name}: a redirect to the provider`, tags: ['oauth'] }),
      onRequest: guard(null)
    }, async (_request, reply) => reply.redirect(start(reply, 'login', null), 302))

    fastify.get<{ Querystring: CallbackQuery }>(`/oauth/${name}/callback`, {
      schema: documented({ summary: `Finish signing in with ${name}: the refresh cookie and a redirect to the app`, tags: ['oauth'], querystring: callbackQuery }),
      onRequest: guard('login')
    }, async (request, reply) => {
      const read = kit.oauthFlow.read(request)
      // Single use: whatever happens next, this browser's flow is over.
      kit.oauthFlow.clear(reply)
      const intent = read.ok ? read.flow.intent : 'login'
      const failed = (reason: OAuthFailureReason, detail: string): FastifyReply => fail(core, request, reply, name, intent, { reason, userId: null, detail })
      const { state, code, error } = request.query
      if (error !== undefined) return failed('denied', `the provider answered ${/^[a-z_]{1,64}$/.test(error) ? error : 'an error'}`)
      if (!read.ok) return failed(read.reason, 'no valid flow cookie')
      const { flow } = read
      if (flow.provider !== name || state === undefined || !sameText(state, flow.state)) return failed('state_invalid', 'the state does not match this browser\'s flow')
      if (code === undefined) return failed('provider_error', 'the callback carries no code')
      // A state is spent once across every instance (the ban store is shared), so a replayed callback
      // URL never reaches the token endpoint again, even with the cookie copied.
      const seen = await core.bans.hit(`oauth:state:${sha256(flow.state).toString('base64url')}`, FLOW_LIFETIME_MS, core.now())
      if (seen.count > 1) return failed('state_replayed', 'this state was already used')

      const exchange = { code, redirect_uri: provider.callbackUrl, ...(flow.verifier === null ? {} : { code_verifier: flow.verifier }) }
      const tokens = await client.getToken(exchange).catch((err: unknown) => { throw exchangeFailure(err) })
      const profile = await fetchProfile(provider, tokens.token, { timeoutMs: core.config.socialLogin.timeout, now: core.now })
      const source = { provider: name, issuer: name }
      if (flow.intent === 'link') {
        await core.socialAccounts.link(flow.userId!, source, profile, contextOf(request))
      } else {
        await kit.issue(reply, await core.socialAccounts.signIn(source, profile, contextOf(request), kit.cookie.read(request)))
      }
      return reply.redirect(landing(core.config.domainClient, flow.intent, 'ok', name), 302)
    })
  })
}
