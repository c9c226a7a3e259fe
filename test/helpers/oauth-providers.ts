import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { authorize, token, type StandInState } from './oauth/grants.ts'
import { formOf, readBody, sendJson, sendText } from './oauth/http.ts'
import { defaultClient, defaultUser, GITHUB_ENTERPRISE, PRESETS } from './oauth/presets.ts'
import { apiRoute, googleIdToken, googleSigningKey } from './oauth/profiles.ts'
import { PROVIDER_CANARY, type Fault, type ProviderKind, type ProviderStandIn, type StandInOptions } from './oauth/types.ts'

export { PROVIDER_CANARY }
export type { Fault, ProviderKind, ProviderStandIn, RecordedRequest, StandInOptions, StandInUser } from './oauth/types.ts'

/** Answers for a fault and says so; 'hang' leaves the request open until close(). */
function faulted (fault: Fault, res: ServerResponse): boolean {
  if (fault === 'error') sendJson(res, 500, { error: 'server_error', error_description: `Internal failure (${PROVIDER_CANARY})` })
  return fault !== null
}

async function handle (state: StandInState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { standIn, preset } = state
  const url = new URL(req.url ?? '/', standIn.origin)
  const body = await readBody(req)
  const form = body === null ? null : formOf(req, body)
  standIn.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, form })
  if (body === null) return sendText(res, 413, 'Request Entity Too Large')

  // Discord serves its API with and without a version (/api/v10/...), and authorize under /api too.
  const path = standIn.kind === 'discord' ? url.pathname.replace(/^\/api\/v\d+\//, '/api/').replace(/^\/api\/oauth2\/authorize$/, preset.authorizePath) : url.pathname
  if (path === preset.authorizePath) {
    return req.method === 'GET' ? authorize(state, url, res) : sendText(res, 405, 'Method Not Allowed')
  }
  if (path === preset.tokenPath) {
    if (faulted(standIn.tokenFault, res)) return
    return token(state, req, res, url, form)
  }
  const route = apiRoute(state, path)
  if (route === null) return sendText(res, 404, 'Not Found')
  if (faulted(standIn.apiFault, res)) return
  route(req, res, url)
}

/**
 * A real OAuth2 provider for `kind` on 127.0.0.1 (a fresh port): authorize, token and the profile
 * API at the provider's own paths, answering the way the provider does. See ProviderStandIn.
 */
export async function startProviderStandIn (kind: ProviderKind, options: StandInOptions = {}): Promise<ProviderStandIn> {
  const enterprise = options.enterprise === true
  if (enterprise && kind !== 'github') throw new Error('enterprise: only GitHub has an Enterprise Server')
  const preset = enterprise ? GITHUB_ENTERPRISE : PRESETS[kind]
  const client = defaultClient(kind)
  const key = kind === 'google' ? await googleSigningKey() : null
  const now = options.now ?? (() => new Date())

  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const standIn: ProviderStandIn = {
    kind,
    origin,
    clientId: options.clientId ?? client.clientId,
    clientSecret: options.clientSecret ?? client.clientSecret,
    endpoints: { authorizeUrl: `${origin}${preset.authorizePath}`, tokenUrl: `${origin}${preset.tokenPath}`, apiUrl: `${origin}${preset.apiPath}` },
    ...(enterprise ? { enterpriseBaseUrl: origin } : {}),
    user: options.user ?? defaultUser(kind),
    deny: false,
    tokenFault: null,
    apiFault: null,
    requests: [],
    async consent (authorizeUrl) {
      const target = new URL(authorizeUrl)
      if (target.origin !== origin) throw new Error(`consent: ${target.origin} is not this stand-in (${origin})`)
      const response = await fetch(target, { redirect: 'manual' })
      const text = await response.text()
      const location = response.headers.get('location')
      if (response.status !== 302 || location === null) throw new Error(`consent: authorize answered ${response.status}: ${text}`)
      return location
    },
    async close () {
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeAllConnections() // idle keep-alive sockets and hanging requests alike
      await closed
    }
  }

  const state: StandInState = {
    standIn,
    preset,
    codes: new Map(),
    tokens: new Map(),
    idToken: key === null ? null : grant => googleIdToken(key, standIn.clientId, grant, now())
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(state, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendText(res, 500, `stand-in failure: ${String(error)}`)
      else res.destroy()
    })
  })
  return standIn
}
