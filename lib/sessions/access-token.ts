import { createVerifier } from 'fast-jwt'
import type { Role, User } from '../ports/storage.ts'

/** Access tokens are HS256 JWTs with this `typ` header (RFC 9068); nothing else verifies. */
export const ACCESS_TOKEN_ALGORITHM = 'HS256'
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** The claims every access token carries. `id` repeats `sub` because LibreChat's other services read `id`. */
export interface AccessClaims {
  sub: string
  id: string
  sid: string
  username: string | null
  provider: string
  email: string
  role: Role
  iss: string
  iat: number
  exp: number
}

/** The standard claims for a user's session, on top of the host's extra claims (which can never override them). */
export function accessTokenClaims (
  user: User, sessionId: string, issuer: string, issuedAtMs: number, lifetimeMs: number, extra: Record<string, unknown>
): Record<string, unknown> {
  const iat = Math.floor(issuedAtMs / 1000)
  const standard: AccessClaims = {
    sub: user.id,
    id: user.id,
    sid: sessionId,
    username: user.username,
    provider: user.provider,
    email: user.email,
    role: user.role,
    iss: issuer,
    iat,
    exp: iat + Math.floor(lifetimeMs / 1000)
  }
  // Copy the extras key by key so a `__proto__` key from the host is data, never a prototype.
  const claims: Record<string, unknown> = Object.create(null)
  for (const [key, value] of Object.entries(extra)) claims[key] = value
  return Object.assign(claims, standard)
}

export interface VerifiedAccessToken {
  claims: AccessClaims
  /** True when the token verified but its `exp` has passed (logout still accepts it). */
  expired: boolean
}

const CACHE_SIZE = 10_000
/** Far above any token we issue; a longer one is refused before it is parsed. */
const MAX_TOKEN_LENGTH = 8192

/**
 * Verifies access tokens: signature with the pinned algorithm, `typ`, `iss`, required claims.
 * Expiry is checked against the injected clock after verification, so a verified token is cached by
 * its exact text (a bounded map: no hashing on the hot path) and stays subject to `exp` and to
 * revocation, which callers check after this.
 */
export function accessTokenVerifier (options: { secret: string, issuer: string, now: () => Date }): (token: string) => VerifiedAccessToken | null {
  const verify = createVerifier({
    key: options.secret,
    algorithms: [ACCESS_TOKEN_ALGORITHM],
    checkTyp: ACCESS_TOKEN_TYPE,
    allowedIss: options.issuer,
    requiredClaims: ['sub', 'sid', 'iss', 'iat', 'exp'],
    ignoreExpiration: true,
    cache: false
  })
  const verified = new Map<string, AccessClaims>()

  const parse = (token: string): AccessClaims | null => {
    const cached = verified.get(token)
    if (cached) return cached
    if (token.length > MAX_TOKEN_LENGTH) return null
    let payload: unknown
    try {
      payload = verify(token)
    } catch {
      return null
    }
    if (!isAccessClaims(payload)) return null
    if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value as string)
    verified.set(token, payload)
    return payload
  }

  return (token) => {
    const claims = parse(token)
    if (claims === null) return null
    return { claims, expired: claims.exp * 1000 <= options.now().getTime() }
  }
}

/** fast-jwt only hands over JSON objects (it refuses other payloads), so only the fields need checking. */
function isAccessClaims (payload: unknown): payload is AccessClaims {
  const p = payload as Record<string, unknown>
  return typeof p.sub === 'string' && typeof p.sid === 'string' && typeof p.exp === 'number' && typeof p.iat === 'number' &&
    typeof p.email === 'string' && (p.role === 'USER' || p.role === 'ADMIN')
}

/** What the core offers about access tokens; the HTTP layer signs them (@fastify/jwt) with these claims. */
export interface AccessTokens {
  /** Verifies a token (an expired one too, flagged); null for anything else, and for every token when there is no secret. */
  verify(token: string): VerifiedAccessToken | null
  /** The claims of a token for this user's session, issued at `at`, with the host's extras (which never override). */
  claimsFor(user: User, sessionId: string, at: Date): Record<string, unknown>
}

export function accessTokens (options: {
  /** `JWT_SECRET`; null in an operator's process (the CLI), which accepts no token. */
  secret: string | null
  issuer: string
  lifetimeMs: number
  now: () => Date
  extraClaims?: ((user: User) => Record<string, unknown>) | undefined
}): AccessTokens {
  const { secret, issuer, lifetimeMs, now, extraClaims } = options
  const verify = secret === null ? () => null : accessTokenVerifier({ secret, issuer, now })
  return {
    verify,
    claimsFor: (user, sessionId, at) => accessTokenClaims(user, sessionId, issuer, at.getTime(), lifetimeMs, extraClaims === undefined ? {} : extraClaims(user))
  }
}
