import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { OAuthFailureReason } from '../../lib/events.ts'
import type { IdentitySource } from '../../lib/identities/social-accounts.ts'
import type { ProviderProfile } from '../../lib/identities/provider-profile.ts'
import type { Role } from '../../lib/ports/storage.ts'
import { contextOf } from '../http/context.ts'
import { documented } from '../route-docs.ts'
import { guardsOf, kitOf, type OAuthStart } from '../scope-kit.ts'
import { FLOW_LIFETIME_MS, type FlowCookie, type OAuthFlow } from './flow-cookie.ts'
import { fail, failureOf, landing } from './outcome.ts'

/** What a callback hands over once the flow checked out: the query as received, and the flow. */
export interface Callback { code: string, query: string, flow: OAuthFlow }

/** Who signed in, and (OpenID's admin role) what their role should be. */
export interface Outcome { source: IdentitySource, profile: ProviderProfile, role?: Role }

interface CallbackQuery { state?: string, code?: string, error?: string }

const callbackQuery = {
  type: 'object',
  // Providers add their own parameters (scope, iss, session_state, error_description...): read only these.
  properties: { state: { type: 'string', maxLength: 2048 }, code: { type: 'string', maxLength: 4096 }, error: { type: 'string', maxLength: 256 } }
} as const

export const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest()
const sameText = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b))

/**
 * The two routes every provider has, wired the same way: GET /oauth/<name> redirects to the provider,
 * GET /oauth/<name>/callback checks the flow (cookie present and signed, state equal, this provider's,
 * spent once across instances), lets `finish` talk to the provider, then signs in or links. Any failure,
 * guard refusals included, is the generic redirect: these are browser navigations, not API calls.
 */
export function oauthRoutes (fastify: FastifyInstance, name: string, flows: FlowCookie, start: OAuthStart, finish: (callback: Callback, request: FastifyRequest) => Promise<Outcome>): void {
  const kit = kitOf(fastify)
  const { core } = kit
  const { guard } = guardsOf(fastify)
  kit.oauthStarts.set(name, start)

  fastify.setErrorHandler(async (error, request, reply) => {
    const read = flows.read(request)
    flows.clear(reply)
    return fail(core, request, reply, name, read.ok ? read.flow.intent : 'login', failureOf(error), error)
  })

  fastify.get(`/oauth/${name}`, {
    schema: documented({ summary: `Start signing in with ${name}: a redirect to the provider`, tags: ['oauth'] }),
    onRequest: guard(null)
  }, async (_request, reply) => reply.redirect(await start(reply, 'login', null), 302))

  fastify.get<{ Querystring: CallbackQuery }>(`/oauth/${name}/callback`, {
    schema: documented({ summary: `Finish signing in with ${name}: the refresh cookie and a redirect to the app`, tags: ['oauth'], querystring: callbackQuery }),
    onRequest: guard('login')
  }, async (request, reply) => {
    const read = flows.read(request)
    // Single use: whatever happens next, this browser's flow is over.
    flows.clear(reply)
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

    const query = request.url.slice(request.url.indexOf('?'))
    const { source, profile, role } = await finish({ code, query, flow }, request)
    if (flow.intent === 'link') {
      await core.socialAccounts.link(flow.userId as string, source, profile, contextOf(request))
    } else {
      await kit.issue(reply, await core.socialAccounts.signIn(source, profile, contextOf(request), kit.cookie.read(request), role))
    }
    return reply.redirect(landing(core.config.domainClient, flow.intent, 'ok', name), 302)
  })
}
