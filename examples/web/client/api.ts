/**
 * The API client. The access token lives in this module's memory only (never in storage); the
 * refresh cookie is HttpOnly and the browser sends it. Like LibreChat's client: a silent refresh on
 * load, and an expired access token (401 FST_LCAUTH_UNAUTHORIZED) is refreshed once and the call
 * retried once; if that fails the user is sent to sign in.
 */

export interface User {
  id: string
  name: string
  username: string | null
  email: string
  emailVerified: boolean
  provider: string
  role: string
}

/** An error answer of the API (`{ statusCode, code, error, message }`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  /** Seconds from the Retry-After header, when the answer had one. */
  readonly retryAfter: number | null

  constructor (status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message)
    this.status = status
    this.code = code
    this.retryAfter = retryAfter
  }
}

/** Thrown after the session could not be renewed and the app went to the sign-in page: nothing more to show. */
export class SessionEnded extends Error {}

let accessToken: string | null = null
let currentUser: User | null = null
let onSessionEnded: () => void = () => {}

export const signedInUser = (): User | null => currentUser

export function setSession (token: string, user: User): void {
  accessToken = token
  currentUser = user
}

export function clearSession (): void {
  accessToken = null
  currentUser = null
}

/** What the app does when an authenticated call cannot be renewed (go to the sign-in page). */
export function whenSessionEnds (handler: () => void): void {
  onSessionEnded = handler
}

function retryAfterOf (response: Response): number | null {
  const value = Number(response.headers.get('retry-after'))
  return response.headers.has('retry-after') && Number.isFinite(value) && value >= 0 ? value : null
}

async function errorOf (response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => null)
  const fields = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
  const code = typeof fields.code === 'string' ? fields.code : `HTTP_${response.status}`
  const message = typeof fields.message === 'string' ? fields.message : `The server answered ${response.status}.`
  return new ApiError(response.status, code, message, retryAfterOf(response))
}

/** One request, no retry. Resolves with the parsed JSON body (null for 204), rejects with ApiError. */
export async function request<T> (method: string, path: string, body?: unknown, token: string | null = null): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== null) headers.authorization = `Bearer ${token}`
  let response: Response
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check your connection and try again.')
  }
  if (!response.ok) throw await errorOf(response)
  return (response.status === 204 ? null : await response.json()) as T
}

interface TokenAnswer { token: string, user: User }

let refreshing: Promise<ApiError | null> | null = null

async function renew (): Promise<ApiError | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { token, user } = await request<TokenAnswer>('POST', '/api/auth/refresh')
      setSession(token, user)
      return null
    } catch (error) {
      // Another tab rotated the cookie a moment ago: the jar holds the newer one now, try once more.
      if (error instanceof ApiError && error.code === 'FST_LCAUTH_REFRESH_RACE' && attempt === 0) continue
      // Storage down or a ban keeps the cookie: the user is signed out for now either way.
      clearSession()
      return error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error))
    }
  }
}

/**
 * Asks for a new access token with the refresh cookie. Calls made at the same time share one
 * request (a rotated cookie must not be presented twice). Resolves with null on success, or with
 * the refusal (401 when there simply is no session).
 */
export function refresh (): Promise<ApiError | null> {
  refreshing ??= renew().finally(() => { refreshing = null })
  return refreshing
}

/** Signs in with email and password; the refresh cookie comes with the answer. */
export async function signIn (email: string, password: string): Promise<User> {
  const { token, user } = await request<TokenAnswer>('POST', '/api/auth/login', { email, password })
  setSession(token, user)
  return user
}

/** Ends this session on the server (best effort) and forgets the token. */
export async function signOut (): Promise<void> {
  try {
    await request('POST', '/api/auth/logout', undefined, accessToken)
  } finally {
    clearSession()
  }
}

/** A call with the access token; an expired or missing one is refreshed once and the call retried once. */
export async function authed<T> (method: string, path: string, body?: unknown): Promise<T> {
  try {
    return await request<T>(method, path, body, accessToken)
  } catch (error) {
    // Only a refused token: a wrong password (also 401) is the user's to correct, not a session problem.
    if (!(error instanceof ApiError) || error.code !== 'FST_LCAUTH_UNAUTHORIZED') throw error
  }
  if (await refresh() === null) {
    try {
      return await request<T>(method, path, body, accessToken)
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'FST_LCAUTH_UNAUTHORIZED') throw error
    }
  }
  clearSession()
  onSessionEnded()
  throw new SessionEnded()
}
