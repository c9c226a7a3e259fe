import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { basicCredentials, redirect, sendForm, sendJson, sendText, wantsJson } from './http.ts'
import type { Preset } from './presets.ts'
import { PROVIDER_CANARY, type ProviderStandIn, type StandInUser } from './types.ts'

/** What an authorization code is bound to. */
export interface Grant {
  clientId: string
  redirectUri: string
  codeChallenge: string | null
  codeChallengeMethod: string | null
  scope: string[]
  nonce: string | null
  user: StandInUser
  used: boolean
}

/** What an issued access token stands for. */
export interface Issued { user: StandInUser, scope: string[] }

/** A stand-in's state as its handlers see it. */
export interface StandInState {
  standIn: ProviderStandIn
  preset: Preset
  codes: Map<string, Grant>
  tokens: Map<string, Issued>
  /** Google: the id_token for a grant (null for the others). */
  idToken: ((grant: Grant) => string) | null
}

const scopesOf = (value: string | null): string[] => (value ?? '').split(/[\s,]+/).filter(scope => scope !== '')

/** GET authorize: checks the request, then redirects back with a code (or with the denial). */
export function authorize (state: StandInState, url: URL, res: ServerResponse): void {
  const { standIn } = state
  const query = url.searchParams
  const missing = ['response_type', 'client_id', 'redirect_uri', 'state'].filter(name => (query.get(name) ?? '') === '')
  if (missing.length > 0) return sendText(res, 400, `Missing required parameter: ${missing.join(', ')}`)
  if (query.get('client_id') !== standIn.clientId) return sendText(res, 400, 'The OAuth client was not found.')
  if (query.get('response_type') !== 'code') return sendText(res, 400, 'Unsupported response_type: only code is allowed.')
  const redirectUri = query.get('redirect_uri') ?? ''
  const back = URL.canParse(redirectUri) ? new URL(redirectUri) : null
  if (back === null || !['http:', 'https:'].includes(back.protocol)) return sendText(res, 400, 'Invalid redirect_uri.')
  const codeChallenge = query.get('code_challenge')
  const codeChallengeMethod = query.get('code_challenge_method')
  if (codeChallengeMethod !== null && (codeChallenge === null || !['S256', 'plain'].includes(codeChallengeMethod))) {
    return sendText(res, 400, 'Invalid code_challenge_method or missing code_challenge.')
  }
  const scope = scopesOf(query.get('scope'))

  if (standIn.deny) {
    standIn.deny = false
    back.searchParams.set('error', 'access_denied')
    back.searchParams.set('error_description', `The user denied the request (${PROVIDER_CANARY})`)
    if (standIn.kind === 'facebook') back.searchParams.set('error_reason', 'user_denied')
  } else {
    const code = randomBytes(20).toString('base64url')
    state.codes.set(code, {
      clientId: standIn.clientId,
      redirectUri,
      codeChallenge,
      codeChallengeMethod,
      scope,
      nonce: query.get('nonce'),
      user: structuredClone(standIn.user),
      used: false
    })
    back.searchParams.set('code', code)
    if (standIn.kind === 'google') {
      // Google adds these to the callback; a client must take extra parameters in its stride.
      back.searchParams.set('scope', scope.join(' '))
      back.searchParams.set('authuser', '0')
      back.searchParams.set('prompt', 'consent')
    }
  }
  back.searchParams.set('state', query.get('state') ?? '')
  redirect(res, back.href)
}

type Refusal = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type'

/** GitHub's own names for token errors (it answers them with 200). */
const GITHUB_ERRORS: Record<Refusal, string> = {
  invalid_request: 'bad_verification_code',
  invalid_client: 'incorrect_client_credentials',
  invalid_grant: 'bad_verification_code',
  unsupported_grant_type: 'unsupported_grant_type'
}

function refuse (state: StandInState, req: IncomingMessage, res: ServerResponse, error: Refusal, description: string, githubError?: string): void {
  switch (state.preset.errorStyle) {
    case 'oauth':
      return sendJson(res, error === 'invalid_client' ? 401 : 400, { error, error_description: description }, true)
    case 'graph':
      return sendJson(res, 400, { error: { message: description, type: 'OAuthException', code: error === 'invalid_client' ? 1 : 100, fbtrace_id: randomBytes(8).toString('base64url') } }, true)
    case 'github': {
      const body = {
        error: githubError ?? GITHUB_ERRORS[error],
        error_description: description,
        error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors'
      }
      return wantsJson(req) ? sendJson(res, 200, body, true) : sendForm(res, 200, body)
    }
  }
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/

/** Why the PKCE check fails, or null when it passes (RFC 7636 §4.6). */
function pkceProblem (grant: Grant, verifier: string | undefined): string | null {
  if (grant.codeChallenge === null) return verifier === undefined ? null : 'code_verifier was given but the authorization request had no code_challenge.'
  if (verifier === undefined || verifier === '') return 'Missing code_verifier.'
  if (!VERIFIER.test(verifier)) return 'Malformed code_verifier.'
  const derived = grant.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
  return derived === grant.codeChallenge ? null : 'code_verifier does not match the code_challenge.'
}

/** The token endpoint: authorization_code only. */
export function token (state: StandInState, req: IncomingMessage, res: ServerResponse, url: URL, form: Record<string, string> | null): void {
  const { standIn, preset } = state
  const byGet = req.method === 'GET' && preset.tokenByGet
  if (req.method !== 'POST' && !byGet) return sendText(res, 405, 'Method Not Allowed')
  const params = byGet ? Object.fromEntries(url.searchParams) : form
  if (params === null) return refuse(state, req, res, 'invalid_request', 'The body must be application/x-www-form-urlencoded.')

  const basic = basicCredentials(req.headers.authorization)
  if (basic !== null && params.client_id !== undefined && params.client_id !== basic.id) {
    return refuse(state, req, res, 'invalid_client', 'Two different client ids were given.')
  }
  const clientId = basic?.id ?? params.client_id
  const clientSecret = basic?.secret ?? params.client_secret
  if (clientId !== standIn.clientId || clientSecret !== standIn.clientSecret) {
    return refuse(state, req, res, 'invalid_client', 'The client_id and/or client_secret passed are incorrect.')
  }
  if (params.grant_type !== 'authorization_code' && !(preset.errorStyle !== 'oauth' && params.grant_type === undefined)) {
    // GitHub and Facebook take a missing grant_type as authorization_code; Google and Discord do not.
    return refuse(state, req, res, 'unsupported_grant_type', 'Only authorization_code is supported.')
  }
  const grant = params.code === undefined ? undefined : state.codes.get(params.code)
  if (grant === undefined || grant.used) {
    return refuse(state, req, res, 'invalid_grant', grant === undefined ? 'The code passed is incorrect or expired.' : 'This authorization code has been used.')
  }
  grant.used = true // spent by this presentation, whatever comes of it
  if (grant.clientId !== clientId) return refuse(state, req, res, 'invalid_grant', 'The code was issued to another client.')
  if (params.redirect_uri !== grant.redirectUri) {
    return refuse(state, req, res, 'invalid_grant', 'The redirect_uri MUST match the one of the authorization request.', 'redirect_uri_mismatch')
  }
  const problem = pkceProblem(grant, params.code_verifier)
  if (problem !== null) return refuse(state, req, res, 'invalid_grant', problem)

  const accessToken = `${preset.tokenPrefix}${randomBytes(24).toString('base64url')}`
  state.tokens.set(accessToken, { user: grant.user, scope: grant.scope })
  const answer: Record<string, string | number> = { access_token: accessToken, token_type: preset.tokenType }
  if (preset.expiresIn !== null) answer.expires_in = preset.expiresIn
  if (preset.scopeInAnswer) answer.scope = grant.scope.join(preset.scopeSeparator)
  if (preset.refreshToken) answer.refresh_token = randomBytes(24).toString('base64url')
  if (state.idToken !== null && grant.scope.includes('openid')) answer.id_token = state.idToken(grant)
  if (preset.errorStyle === 'github' && !wantsJson(req)) {
    return sendForm(res, 200, Object.fromEntries(Object.entries(answer).map(([key, value]) => [key, String(value)])))
  }
  sendJson(res, 200, answer, true)
}
