import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto'
import type { ProviderKind, ProviderStandIn } from '../oauth-providers.ts'

// The client side of the authorization code flow, written from RFC 6749 and 7636, for the
// stand-ins' self-test: each call is one step a relying party takes.

export type Body = Record<string, unknown>

export const KINDS: ProviderKind[] = ['google', 'github', 'discord', 'facebook']
export const SCOPES: Record<ProviderKind, string> = { google: 'openid profile email', github: 'user:email', discord: 'identify email', facebook: 'email,public_profile' }
export const CALLBACK = 'http://127.0.0.1:9/oauth/callback'

export function pkcePair (): { verifier: string, challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export interface AuthorizeParams { scope?: string, challenge?: string, method?: string, redirectUri?: string, nonce?: string }

export function authorizeUrl (provider: ProviderStandIn, params: AuthorizeParams = {}): string {
  const url = new URL(provider.endpoints.authorizeUrl)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', provider.clientId)
  url.searchParams.set('redirect_uri', params.redirectUri ?? CALLBACK)
  url.searchParams.set('state', 'state-123')
  url.searchParams.set('scope', params.scope ?? SCOPES[provider.kind])
  if (params.challenge !== undefined) url.searchParams.set('code_challenge', params.challenge)
  if (params.method !== undefined) url.searchParams.set('code_challenge_method', params.method)
  if (params.nonce !== undefined) url.searchParams.set('nonce', params.nonce)
  return url.href
}

/** Consents and returns the code of the callback it redirected to. */
export async function codeFor (provider: ProviderStandIn, params: AuthorizeParams = {}): Promise<string> {
  const callback = new URL(await provider.consent(authorizeUrl(provider, params)))
  const code = callback.searchParams.get('code')
  if (code === null || callback.searchParams.get('state') !== 'state-123') throw new Error(`no code in ${callback.href}`)
  return code
}

export interface Exchange { code: string, verifier?: string, redirectUri?: string, secret?: string, inBody?: boolean, accept?: string }

export async function exchange (provider: ProviderStandIn, options: Exchange): Promise<{ status: number, type: string, text: string, body: Body }> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: options.code, redirect_uri: options.redirectUri ?? CALLBACK })
  if (options.verifier !== undefined) form.set('code_verifier', options.verifier)
  const secret = options.secret ?? provider.clientSecret
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: options.accept ?? 'application/json' }
  if (options.inBody === true) {
    form.set('client_id', provider.clientId)
    form.set('client_secret', secret)
  } else {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(provider.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`
  }
  const response = await fetch(provider.endpoints.tokenUrl, { method: 'POST', headers, body: form })
  const text = await response.text()
  const type = response.headers.get('content-type') ?? ''
  return { status: response.status, type, text, body: type.startsWith('application/json') ? JSON.parse(text) as Body : Object.fromEntries(new URLSearchParams(text)) }
}

export async function api (provider: ProviderStandIn, path: string, accessToken: string | null): Promise<{ status: number, body: unknown }> {
  const response = await fetch(`${provider.endpoints.apiUrl}${path}`, { headers: accessToken === null ? {} : { authorization: `Bearer ${accessToken}` } })
  return { status: response.status, body: await response.json() as unknown }
}

/** A full login: consent with PKCE, exchange, and the access token. */
export async function login (provider: ProviderStandIn, params: AuthorizeParams = {}): Promise<Body> {
  const { verifier, challenge } = pkcePair()
  const code = await codeFor(provider, { ...params, challenge, method: 'S256' })
  const answer = await exchange(provider, { code, verifier })
  if (answer.status !== 200 || typeof answer.body.access_token !== 'string') throw new Error(`token: ${answer.status} ${answer.text}`)
  return answer.body
}

export function verifiedClaims (jwt: string, jwk: JsonWebKey): Body {
  const [header, payload, signature] = jwt.split('.')
  if (header === undefined || payload === undefined || signature === undefined) throw new Error('not a JWT')
  const key = createPublicKey({ key: jwk, format: 'jwk' })
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) throw new Error('bad signature')
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Body
}
