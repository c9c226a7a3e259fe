import type { IncomingMessage } from 'node:http'
import type Provider from 'oidc-provider'
import type { KoaContext } from 'oidc-provider'
import { accessTokenJwt, ID_TOKEN_MISBEHAVIOURS, misbehavingIdToken, type SigningKey } from './jwt.ts'
import type { OidcAccount, OidcRequest, OidcStandIn } from './types.ts'

// What the stand-in changes in oidc-provider's answers, as a provider.use() middleware: after the
// route ran, ctx.oidc.route names it ('token', 'userinfo', 'discovery') and ctx.body is its JSON.

export interface RewriteContext {
  provider: Provider
  standIn: OidcStandIn
  key: SigningKey
  /** The account each sub had at its last login. */
  accounts: Map<string, OidcAccount>
  /** Our JWT access tokens to the opaque ones oidc-provider issued (and takes at userinfo). */
  accessTokens: Map<string, string>
  /** The record of each request, to fill in its form once oidc-provider has parsed the body. */
  records: WeakMap<IncomingMessage, OidcRequest>
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function formOf (body: Record<string, string | string[] | undefined>): Record<string, string> {
  const form: Record<string, string> = {}
  for (const [name, value] of Object.entries(body)) if (value !== undefined) form[name] = Array.isArray(value) ? value.join(',') : value
  return form
}

/**
 * oidc-provider only takes its own opaque access tokens at userinfo (a JWT access token is bound to a
 * resource server). Real providers take their JWTs there: ours are swapped back before the route runs.
 */
export function opaqueBearer (context: RewriteContext, req: IncomingMessage): void {
  const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
  const opaque = presented === undefined ? undefined : context.accessTokens.get(presented)
  if (opaque !== undefined) req.headers.authorization = `Bearer ${opaque}`
}

/**
 * oidc-provider takes client_secret_basic and client_secret_post alike whichever the client was
 * registered with; strict providers (Okta, PingFederate) refuse the other one, and so does the
 * stand-in. Decided on the header alone, before the body (and the code in it) is read.
 */
export function authMethodRefusal (method: 'client_secret_basic' | 'client_secret_post', req: IncomingMessage): string | null {
  const basic = /^Basic\s/i.test(req.headers.authorization ?? '')
  if (method === 'client_secret_basic' && !basic) return 'The client authenticates with client_secret_basic (an Authorization: Basic header).'
  if (method === 'client_secret_post' && basic) return 'The client authenticates with client_secret_post (client_id and client_secret in the body).'
  return null
}

async function tokenAnswer (context: RewriteContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { standIn, key, provider } = context
  const mode = standIn.misbehave
  const answer = { ...body }
  if (typeof answer.id_token === 'string' && ID_TOKEN_MISBEHAVIOURS.has(mode)) {
    answer.id_token = misbehavingIdToken(answer.id_token, mode, key, standIn.clientSecret)
  }
  const opaque = answer.access_token
  if (mode === 'access-token-opaque' || typeof opaque !== 'string') return answer
  const issued = await provider.AccessToken.find(opaque)
  if (issued === undefined) throw new Error('the access token just issued cannot be found')
  const jwt = accessTokenJwt(key, {
    issuer: provider.issuer,
    clientId: issued.clientId,
    sub: issued.accountId,
    scope: issued.scope ?? '',
    iat: issued.iat,
    exp: issued.exp,
    jti: issued.jti,
    claims: context.accounts.get(issued.accountId)?.claims ?? {}
  })
  context.accessTokens.set(jwt, opaque)
  answer.access_token = jwt
  return answer
}

export function rewrites (context: RewriteContext) {
  return async function rewrite (ctx: KoaContext, next: () => Promise<void>): Promise<void> {
    await next()
    const record = context.records.get(ctx.req)
    if (record !== undefined && ctx.oidc?.body !== undefined) record.form = formOf(ctx.oidc.body)
    const mode = context.standIn.misbehave
    if (ctx.status !== 200 || !isObject(ctx.body)) return
    switch (ctx.oidc?.route) {
      case 'token':
        ctx.body = await tokenAnswer(context, ctx.body)
        break
      case 'userinfo':
        if (mode === 'userinfo-other-sub') ctx.body = { ...ctx.body, sub: `not-${String(ctx.body.sub)}` }
        break
      case 'discovery':
        if (mode === 'discovery-issuer-mismatch') ctx.body = { ...ctx.body, issuer: new URL('/impostor', context.standIn.issuer).href }
        break
    }
  }
}
