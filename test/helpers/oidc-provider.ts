import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'
import { formOf, readBody, sendJson, sendText } from './oauth/http.ts'
import { signIn } from './oidc/browser.ts'
import { providerConfig } from './oidc/config.ts'
import { interaction, interactionRoute, type InteractionContext } from './oidc/interactions.ts'
import { providerSigningKey } from './oidc/jwt.ts'
import { authMethodRefusal, opaqueBearer, rewrites, type RewriteContext } from './oidc/rewrites.ts'
import { DEFAULT_REDIRECT_URIS, defaultAccount, type OidcAccount, type OidcProviderOptions, type OidcRequest, type OidcStandIn } from './oidc/types.ts'

export type { Misbehaviour, OidcAccount, OidcProviderOptions, OidcRequest, OidcStandIn } from './oidc/types.ts'
export { defaultAccount } from './oidc/types.ts'

interface Front {
  standIn: OidcStandIn
  provider: Provider
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>
  interactions: InteractionContext
  rewriting: RewriteContext
  issuerPath: string
  origin: string
  authMethod: 'client_secret_basic' | 'client_secret_post'
}

async function handle (front: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', front.origin)
  const record: OidcRequest = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), form: null }
  front.standIn.requests.push(record)
  const { issuerPath } = front
  if (issuerPath !== '' && url.pathname !== issuerPath && !url.pathname.startsWith(`${issuerPath}/`)) return sendText(res, 404, 'Not Found')
  const path = url.pathname.slice(issuerPath.length) || '/'

  // No keep-alive: after stop() a pooled socket would fail with "other side closed" rather than
  // the connection refused a provider that is down gives.
  res.setHeader('connection', 'close')
  if (path === '/token' && req.method === 'POST') {
    const refusal = authMethodRefusal(front.authMethod, req)
    if (refusal !== null) return sendJson(res, 401, { error: 'invalid_client', error_description: refusal }, true)
  }

  const route = interactionRoute(path)
  if (route !== null) {
    const body = req.method === 'POST' ? await readBody(req) : ''
    if (body === null) return sendText(res, 413, 'Request Entity Too Large')
    record.form = req.method === 'POST' ? formOf(req, body) : null
    return interaction(front.interactions, req, res, route, record.form)
  }
  // oidc-provider, mounted below the issuer path the way Express mounts it (it reads req.originalUrl).
  front.rewriting.records.set(req, record)
  opaqueBearer(front.rewriting, req)
  Object.assign(req, { originalUrl: req.url, url: `${path}${url.search}` })
  await front.handler(req, res)
}

/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1, with one confidential client, its own login
 * and consent pages, JWT access tokens and a way to misbehave on demand. See OidcStandIn.
 */
export async function startOidcProvider (options: OidcProviderOptions = {}): Promise<OidcStandIn> {
  const issuerPath = (options.issuerPath ?? '').replace(/\/+$/, '')
  if (issuerPath !== '' && !issuerPath.startsWith('/')) throw new Error('issuerPath must start with /')
  const key = await providerSigningKey()
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`

  const accounts = new Map<string, OidcAccount>()
  const account = options.account ?? defaultAccount()
  const authMethod = options.tokenEndpointAuthMethod ?? 'client_secret_basic'
  const clientId = options.clientId ?? 'librechat-openid'
  const clientSecret = options.clientSecret ?? 'stand-in-client-secret-0123456789abcdef'
  const config = providerConfig({
    clientId,
    clientSecret,
    redirectUris: options.redirectUris ?? DEFAULT_REDIRECT_URIS,
    tokenEndpointAuthMethod: authMethod,
    endSession: options.endSession === true,
    userinfo: options.userinfo !== false,
    issuerPath,
    key,
    account,
    findAccount: sub => accounts.get(sub)
  })
  // An issuer named with a trailing slash (Authentik's style) keeps it; routing ignores it.
  const provider = new Provider(`${origin}${issuerPath}${options.issuerPath?.endsWith('/') === true ? '/' : ''}`, config)
  const supported = new Set(Object.values(config.claims).flat()) // the claim names it can release

  let listening = true
  const standIn: OidcStandIn = {
    issuer: provider.issuer,
    clientId,
    clientSecret,
    account,
    misbehave: null,
    requests: [],
    async signIn (authorizeUrl, signInOptions = {}) {
      const unknown = Object.keys(standIn.account.claims).filter(name => !supported.has(name))
      if (unknown.length > 0) throw new Error(`signIn: oidc-provider was started without the claims ${unknown.join(', ')}: give them in options.account`)
      return signIn(origin, authorizeUrl, () => standIn.account.sub, signInOptions.deny === true)
    },
    async stop () {
      if (!listening) return
      listening = false
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
    async start () {
      if (listening) return
      server.listen(port, '127.0.0.1')
      await once(server, 'listening')
      listening = true
    },
    close: () => standIn.stop()
  }

  const rewriting: RewriteContext = { provider, standIn, key, accounts, accessTokens: new Map(), records: new WeakMap() }
  provider.use(rewrites(rewriting))
  const front: Front = {
    standIn,
    provider,
    handler: provider.callback(),
    interactions: { provider, issuerPath, account: () => standIn.account, loggedIn: snapshot => accounts.set(snapshot.sub, snapshot) },
    rewriting,
    issuerPath,
    origin,
    authMethod
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(front, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendText(res, 500, `stand-in failure: ${String(error)}`)
      else res.destroy()
    })
  })
  return standIn
}
