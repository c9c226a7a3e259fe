import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import type { Grant, Issued, StandInState } from './grants.ts'
import { bearerToken, sendJson, sendText } from './http.ts'

/** Google's signing key: one RSA pair for the whole test process (generating one costs ~50 ms). */
export interface SigningKey { privateKey: KeyObject, jwk: Record<string, unknown> }

let signingKey: Promise<SigningKey> | undefined

export function googleSigningKey (): Promise<SigningKey> {
  signingKey ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ publicKey, privateKey }) => ({
    privateKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid: randomBytes(20).toString('hex'), alg: 'RS256', use: 'sig' }
  }))
  return signingKey
}

const has = (scope: string[], short: string): boolean => scope.includes(short) || scope.includes(`https://www.googleapis.com/auth/userinfo.${short}`)
const json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Google's id_token: RS256, email claims with the `email` scope, name and picture with `profile`. */
export function googleIdToken (key: SigningKey, clientId: string, grant: Grant, now: Date): string {
  const { user, scope } = grant
  const iat = Math.floor(now.getTime() / 1000)
  const claims: Record<string, unknown> = { iss: 'https://accounts.google.com', azp: clientId, aud: clientId, sub: user.subject }
  if (has(scope, 'email') && user.email !== null) Object.assign(claims, { email: user.email, email_verified: user.emailVerified })
  if (has(scope, 'profile')) {
    if (user.name != null) claims.name = user.name
    if (user.avatar != null) claims.picture = user.avatar
  }
  if (grant.nonce !== null) claims.nonce = grant.nonce
  Object.assign(claims, { iat, exp: iat + 3600 })
  const signingInput = `${json({ alg: 'RS256', kid: key.jwk.kid, typ: 'JWT' })}.${json(claims)}`
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key.privateKey).toString('base64url')}`
}

type Handler = (state: StandInState, issued: Issued, req: IncomingMessage, res: ServerResponse, url: URL) => void

/** GitHub: a profile's public email is its primary one, and only when that is verified. */
function githubEmails (issued: Issued): Array<{ email: string, primary: boolean, verified: boolean, visibility: 'public' | 'private' | null }> {
  const { user } = issued
  const list = user.emails ?? (user.email === null ? [] : [{ email: user.email, primary: true, verified: user.emailVerified }])
  return list.map(entry => ({ ...entry, visibility: entry.primary ? (entry.verified ? 'public' : 'private') : null }))
}

const githubUser: Handler = (state, issued, _req, res) => {
  const { user } = issued
  const publicEmail = githubEmails(issued).find(entry => entry.visibility === 'public')?.email ?? null
  sendJson(res, 200, {
    login: user.login ?? null,
    id: Number(user.subject),
    node_id: Buffer.from(`04:User${user.subject}`).toString('base64'),
    avatar_url: user.avatar ?? null,
    html_url: `${state.standIn.origin}/${user.login ?? ''}`,
    type: 'User',
    site_admin: false,
    name: user.name ?? null,
    email: publicEmail
  })
}

const githubUserEmails: Handler = (_state, issued, _req, res) => {
  if (!issued.scope.includes('user:email') && !issued.scope.includes('user')) {
    return sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user', status: '404' })
  }
  sendJson(res, 200, githubEmails(issued))
}

const discordMe: Handler = (_state, issued, _req, res) => {
  const { user, scope } = issued
  if (!scope.includes('identify')) return sendJson(res, 401, { message: '401: Unauthorized', code: 0 })
  sendJson(res, 200, {
    id: user.subject,
    username: user.login ?? null,
    discriminator: '0',
    global_name: user.name ?? null,
    avatar: user.avatar ?? null,
    mfa_enabled: false,
    locale: 'en-US',
    flags: 0,
    public_flags: 0,
    premium_type: 0,
    ...(scope.includes('email') ? { email: user.email, verified: user.emailVerified } : {})
  })
}

const FACEBOOK_FIELDS = new Set(['id', 'name', 'first_name', 'last_name', 'email', 'picture'])

const facebookMe: Handler = (state, issued, _req, res, url) => {
  const { user, scope } = issued
  const fields = (url.searchParams.get('fields') ?? 'id,name').split(',').map(field => field.trim().replace(/[.{].*$/, '')).filter(field => field !== '')
  const unknown = fields.find(field => !FACEBOOK_FIELDS.has(field))
  if (unknown !== undefined) {
    return sendJson(res, 400, { error: { message: `(#100) Tried accessing nonexisting field (${unknown}) on node type (User)`, type: 'OAuthException', code: 100 } })
  }
  const [first, ...rest] = (user.name ?? '').split(' ')
  const values: Record<string, unknown> = {
    name: user.name ?? undefined,
    first_name: user.name == null ? undefined : first,
    last_name: user.name == null ? undefined : rest.join(' '),
    // Without the email permission, or for a person without one, the field is left out.
    email: scope.includes('email') && user.email !== null ? user.email : undefined,
    picture: { data: { height: 50, width: 50, is_silhouette: user.avatar == null, url: user.avatar ?? `${state.standIn.origin}/static/silhouette.png` } }
  }
  const answer: Record<string, unknown> = { id: user.subject }
  for (const field of fields) if (values[field] !== undefined) answer[field] = values[field]
  sendJson(res, 200, answer)
}

/** The provider's answer to a missing or unknown access token. */
function unauthorized (state: StandInState, res: ServerResponse): void {
  switch (state.standIn.kind) {
    case 'github': return sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
    case 'discord': return sendJson(res, 401, { message: '401: Unauthorized', code: 0 })
    default: return sendJson(res, 401, { error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 } })
  }
}

/** The API handler for `path` (already stripped of any Discord API version), or null. */
export function apiRoute (state: StandInState, path: string): ((req: IncomingMessage, res: ServerResponse, url: URL) => void) | null {
  const base = state.preset.apiPath
  const { kind } = state.standIn
  if (kind === 'google') {
    if (path !== '/oauth2/v3/certs') return null
    return (_req, res) => { void googleSigningKey().then(key => sendJson(res, 200, { keys: [key.jwk] })) }
  }
  const handler = kind === 'github'
    ? ({ [`${base}/user`]: githubUser, [`${base}/user/emails`]: githubUserEmails })[path]
    : ({ discord: { [`${base}/users/@me`]: discordMe }, facebook: { [`${base}/me`]: facebookMe } })[kind][path]
  if (handler === undefined) return null
  return (req, res, url) => {
    if (req.method !== 'GET') return sendText(res, 405, 'Method Not Allowed')
    if (kind === 'github' && (req.headers['user-agent'] ?? '') === '') {
      return sendText(res, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/rest/overview/resources-in-the-rest-api#user-agent-required).')
    }
    const presented = bearerToken(req.headers.authorization, kind === 'github') ?? (kind === 'facebook' ? url.searchParams.get('access_token') : null)
    const issued = presented === null ? undefined : state.tokens.get(presented)
    if (issued === undefined) return unauthorized(state, res)
    handler(state, issued, req, res, url)
  }
}
