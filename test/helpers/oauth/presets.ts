import { randomBytes, randomInt } from 'node:crypto'
import type { ProviderKind, StandInUser } from './types.ts'

/**
 * How a provider's token endpoint reports an error. `oauth`: RFC 6749 JSON with 400 (401 for a
 * client that failed to authenticate). `github`: 200 with `error` in the body, JSON only when the
 * client sent `Accept: application/json` (form-encoded otherwise). `graph`: Facebook's
 * `{ error: { message, type: 'OAuthException', code } }` with 400.
 */
export type ErrorStyle = 'oauth' | 'github' | 'graph'

/** What differs between providers, as data (paths are relative to the stand-in's origin). */
export interface Preset {
  authorizePath: string
  tokenPath: string
  /** The API base path: '' for api.github.com-like roots. */
  apiPath: string
  tokenType: 'bearer' | 'Bearer'
  /** null: the token never expires and the answer carries no expires_in (GitHub OAuth apps). */
  expiresIn: number | null
  /** How the granted scope is written back. */
  scopeSeparator: ' ' | ','
  errorStyle: ErrorStyle
  /** The token endpoint also takes its parameters as a GET query (Facebook). */
  tokenByGet: boolean
  /** A refresh token comes with the access token (Discord). */
  refreshToken: boolean
  /** The token answer names the granted scope (all but Facebook). */
  scopeInAnswer: boolean
  /** How the provider's access tokens begin. */
  tokenPrefix: string
}

const github: Preset = {
  authorizePath: '/login/oauth/authorize',
  tokenPath: '/login/oauth/access_token',
  apiPath: '',
  tokenType: 'bearer',
  expiresIn: null,
  scopeSeparator: ',',
  errorStyle: 'github',
  tokenByGet: false,
  refreshToken: false,
  scopeInAnswer: true,
  tokenPrefix: 'gho_'
}

export const PRESETS: Record<ProviderKind, Preset> = {
  // accounts.google.com/o/oauth2/v2/auth and oauth2.googleapis.com/token, on one origin.
  google: {
    authorizePath: '/o/oauth2/v2/auth',
    tokenPath: '/token',
    apiPath: '',
    tokenType: 'Bearer',
    expiresIn: 3599,
    scopeSeparator: ' ',
    errorStyle: 'oauth',
    tokenByGet: false,
    refreshToken: false,
    scopeInAnswer: true,
    tokenPrefix: 'ya29.'
  },
  github,
  // discord.com/oauth2/authorize, discord.com/api/oauth2/token, discord.com/api/users/@me.
  discord: {
    authorizePath: '/oauth2/authorize',
    tokenPath: '/api/oauth2/token',
    apiPath: '/api',
    tokenType: 'Bearer',
    expiresIn: 604800,
    scopeSeparator: ' ',
    errorStyle: 'oauth',
    tokenByGet: false,
    refreshToken: true,
    scopeInAnswer: true,
    tokenPrefix: ''
  },
  // www.facebook.com/v19.0/dialog/oauth, graph.facebook.com/v19.0/oauth/access_token and /me.
  facebook: {
    authorizePath: '/v19.0/dialog/oauth',
    tokenPath: '/v19.0/oauth/access_token',
    apiPath: '/v19.0',
    tokenType: 'bearer',
    expiresIn: 5183944,
    scopeSeparator: ',',
    errorStyle: 'graph',
    tokenByGet: true,
    refreshToken: false,
    scopeInAnswer: false,
    tokenPrefix: 'EAA'
  }
}

/** GitHub Enterprise Server: the OAuth pages on the instance's origin, the REST API under /api/v3. */
export const GITHUB_ENTERPRISE: Preset = { ...github, apiPath: '/api/v3' }

const digits = (count: number): string => Array.from({ length: count }, (_, i) => String(randomInt(i === 0 ? 1 : 0, 10))).join('')
const token = (bytes: number): string => randomBytes(bytes).toString('base64url')

/** A client id and secret shaped like the provider's own. */
export function defaultClient (kind: ProviderKind): { clientId: string, clientSecret: string } {
  switch (kind) {
    case 'google': return { clientId: `${digits(12)}-${token(16).toLowerCase()}.apps.googleusercontent.com`, clientSecret: `GOCSPX-${token(21)}` }
    case 'github': return { clientId: `Ov23li${randomBytes(7).toString('hex')}`, clientSecret: randomBytes(20).toString('hex') }
    case 'discord': return { clientId: digits(19), clientSecret: token(24) }
    case 'facebook': return { clientId: digits(16), clientSecret: randomBytes(16).toString('hex') }
  }
}

/** A verified person with an email, identified the provider's way. */
export function defaultUser (kind: ProviderKind): StandInUser {
  const base = { email: 'ada@example.test', emailVerified: true, name: 'Ada Lovelace', login: 'ada' }
  switch (kind) {
    case 'google': return { ...base, subject: digits(21), avatar: 'https://lh3.googleusercontent.com/a/ada' }
    case 'github': return { ...base, subject: String(randomInt(1, 2 ** 31)), avatar: 'https://avatars.githubusercontent.com/u/1?v=4' }
    case 'discord': return { ...base, subject: digits(18), avatar: randomBytes(16).toString('hex') }
    case 'facebook': return { ...base, subject: digits(17), avatar: 'https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=1' }
  }
}
