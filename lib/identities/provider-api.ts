import { createHmac } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { jwtClaims } from './claims.ts'
import { discordProfile, facebookProfile, githubProfile, googleProfile, ProviderFailure, type ProviderProfile } from './provider-profile.ts'
import type { SocialProviderConfig } from './social-config.ts'

type Json = Record<string, unknown>

const MAX_BODY = 1024 * 1024
const GOOGLE_ISSUERS = new Set(['https://accounts.google.com', 'accounts.google.com'])
// Google's ID token comes straight from its token endpoint over TLS, so (OIDC Core §3.1.3.7) its
// signature need not be checked; what it claims still must fit this client.
const CLOCK_SKEW_MS = 30_000

/** GET a provider API as the signed-in person; the provider's answer never leaves this function except as data. */
async function getJson (url: string, headers: Record<string, string>, timeoutMs: number): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/json', 'user-agent': 'librechat-auth', ...headers }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError'
    throw new ProviderFailure(timedOut ? 'timeout' : 'provider_error', `${new URL(url).pathname}: ${timedOut ? 'no answer in time' : 'request failed'}`)
  }
  const text = await response.text().catch(() => null)
  if (!response.ok || text === null || text.length > MAX_BODY) throw new ProviderFailure('provider_error', `${new URL(url).pathname} answered ${response.status}`)
  try {
    return JSON.parse(text)
  } catch {
    throw new ProviderFailure('provider_error', `${new URL(url).pathname} answered something other than JSON`)
  }
}

const object = (value: unknown, what: string): Json => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProviderFailure('provider_error', `${what} is not an object`)
  return value as Json
}

/** The claims of Google's ID token, once they are for this client, from Google, and current. */
function googleClaims (idToken: unknown, clientId: string, now: Clock): Json {
  const claims = typeof idToken === 'string' ? jwtClaims(idToken) : null
  if (claims === null) throw new ProviderFailure('provider_error', 'google sent no readable ID token')
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  const expires = typeof claims.exp === 'number' ? claims.exp * 1000 : 0
  if (!GOOGLE_ISSUERS.has(String(claims.iss)) || !audience.includes(clientId) || expires + CLOCK_SKEW_MS < now().getTime()) {
    throw new ProviderFailure('provider_error', 'google\'s ID token is not for this client, not from Google, or expired')
  }
  return claims
}

/**
 * Who signed in, from the token endpoint's answer and, where the provider needs it, its user API.
 * Throws ProviderFailure with a reason and a detail for the log (never the provider's own text).
 */
export async function fetchProfile (provider: SocialProviderConfig, tokens: Json, options: { timeoutMs: number, now: Clock }): Promise<ProviderProfile> {
  const accessToken = tokens.access_token
  if (typeof accessToken !== 'string' || accessToken === '') throw new ProviderFailure('provider_error', 'the token endpoint gave no access token')
  const api = provider.endpoints.apiUrl
  const get = async (path: string, headers: Record<string, string> = {}): Promise<unknown> =>
    getJson(`${api}${path}`, { authorization: `Bearer ${accessToken}`, ...headers }, options.timeoutMs)
  switch (provider.name) {
    case 'google':
      return googleProfile(googleClaims(tokens.id_token, provider.clientId, options.now))
    case 'github': {
      const headers = { accept: 'application/vnd.github+json' }
      const [user, emails] = await Promise.all([get('/user', headers), get('/user/emails', headers)])
      return githubProfile(object(user, 'github\'s user'), emails)
    }
    case 'discord':
      return discordProfile(object(await get('/users/@me'), 'discord\'s user'))
    case 'facebook': {
      // appsecret_proof ties the call to this app, so a token leaked from elsewhere is useless here.
      const proof = createHmac('sha256', provider.clientSecret).update(accessToken).digest('hex')
      return facebookProfile(object(await get(`/me?fields=id,name,email,picture&appsecret_proof=${proof}`), 'facebook\'s user'))
    }
  }
}
