// oidc-provider ships no types (and @types/oidc-provider lags its majors): the part of its API the
// OpenID stand-in uses, written from the 9.x sources.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface AccountClaims { sub: string, [claim: string]: unknown }
  export interface Account { accountId: string, claims(use: string, scope: string): AccountClaims | Promise<AccountClaims> }

  export interface ClientMetadata {
    client_id: string
    client_secret: string
    redirect_uris: string[]
    post_logout_redirect_uris?: string[]
    response_types: string[]
    grant_types: string[]
    token_endpoint_auth_method: string
  }

  /** What oidc-provider stores (tokens, codes, sessions, interactions, grants) as the adapter sees it. */
  export interface AdapterPayload { uid?: string, grantId?: string, consumed?: number, [member: string]: unknown }

  /** The storage interface, one instance per model name. */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>
    find(id: string): Promise<AdapterPayload | undefined>
    findByUid(uid: string): Promise<AdapterPayload | undefined>
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>
    consume(id: string): Promise<void>
    destroy(id: string): Promise<void>
    revokeByGrantId(grantId: string): Promise<void>
  }

  export interface Configuration {
    adapter: (model: string) => Adapter
    clients: ClientMetadata[]
    findAccount(ctx: unknown, id: string): Account | undefined | Promise<Account | undefined>
    /** Scope name to the claims it releases. */
    claims: Record<string, string[]>
    conformIdTokenClaims: boolean
    cookies: { keys: string[] }
    features: Record<string, { enabled: boolean, [setting: string]: unknown }>
    interactions: { url(ctx: unknown, interaction: { uid: string }): string }
    jwks: { keys: object[] }
    pkce: { required(): boolean }
    renderError(ctx: { type: string, body: string }, out: { error: string, error_description?: string }, error: Error): void | Promise<void>
    ttl: Record<string, number>
  }

  /** What an interaction is waiting for. */
  export interface Interaction {
    uid: string
    prompt: { name: string, details: { missingOIDCScope?: string[], missingOIDCClaims?: string[], missingResourceScopes?: Record<string, string[]> } }
    params: Record<string, unknown>
    session?: { accountId: string }
    grantId?: string
  }

  export type InteractionResult =
    | { login: { accountId: string } }
    | { consent: { grantId?: string } }
    | { error: string, error_description?: string }

  export interface Grant {
    addOIDCScope(scope: string): void
    addOIDCClaims(claims: string[]): void
    addResourceScope(resource: string, scope: string): void
    save(): Promise<string>
  }

  export interface AccessToken { accountId: string, clientId: string, scope?: string, iat: number, exp: number, jti: string }

  /** The Koa context as a provider.use() middleware sees it. */
  export interface KoaContext {
    req: IncomingMessage
    status: number
    body: unknown
    oidc?: { route: string, body?: Record<string, string | string[] | undefined> }
  }

  export default class Provider {
    constructor (issuer: string, configuration: Configuration)
    readonly issuer: string
    Grant: { new (init: { accountId: string, clientId: string }): Grant, find(id: string): Promise<Grant | undefined> }
    AccessToken: { find(value: string): Promise<AccessToken | undefined> }
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): this
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: InteractionResult, options?: { mergeWithLastSubmission?: boolean }): Promise<void>
  }
}
