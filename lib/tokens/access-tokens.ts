import { createSigner, createVerifier } from 'fast-jwt'
import { Lru } from 'toad-cache'
import type { User } from '../ports/storage.ts'
import { type AccessClaims, accessTokenClaims, isAccessClaims } from './claims.ts'
import { ACCESS_TOKEN_TYPE, type AccessTokenKeySet, type HmacKey } from './key-set.ts'

export interface VerifiedAccessToken {
  claims: AccessClaims
  /** True when the token verified but its `exp` has passed (logout still accepts it). */
  expired: boolean
}

/** Signing and verifying access tokens, in one place, on fast-jwt. */
export interface AccessTokens {
  /** A signed token for this user's session, issued at `at`, with the host's extra claims (which never override). */
  issue(user: User, sessionId: string, at: Date): string
  /**
   * Checks signature (with the key's own pinned algorithm), `typ`, `iss` and the required claims; an
   * expired token is returned flagged, so callers decide. Null for anything else, and for every token
   * when there are no keys (an operator's process).
   */
  verify(token: string): VerifiedAccessToken | null
}

const CACHE_SIZE = 10_000
/** Far above any token we issue; a longer one is refused before it is parsed. */
const MAX_TOKEN_LENGTH = 8192

export function accessTokens (options: {
  /** Null in an operator's process (the CLI): it signs nothing and accepts nothing. */
  keys: AccessTokenKeySet | null
  issuer: string
  lifetimeMs: number
  now: () => Date
  extraClaims?: ((user: User) => Record<string, unknown>) | undefined
}): AccessTokens {
  const { keys, issuer, lifetimeMs, now, extraClaims } = options
  if (keys === null) {
    return {
      issue: () => { throw new Error('librechat-auth: no key to sign access tokens with (jwtSecret is not set)') },
      verify: () => null
    }
  }
  const sign = signerFor(keys.signing)
  const verifiers = keys.verifying.map(key => verifierFor(key, issuer))
  // Verified tokens by their exact text (no hashing on the hot path); expiry and revocation are
  // checked by callers on every use, so a cached token never outlives either.
  const verified = new Lru<AccessClaims>(CACHE_SIZE)

  const parse = (token: string): AccessClaims | null => {
    const cached = verified.get(token)
    if (cached !== undefined) return cached
    if (token.length > MAX_TOKEN_LENGTH) return null
    for (const verify of verifiers) {
      let payload: unknown
      try {
        payload = verify(token)
      } catch {
        continue
      }
      if (!isAccessClaims(payload)) return null
      verified.set(token, payload)
      return payload
    }
    return null
  }

  return {
    issue: (user, sessionId, at) => sign(accessTokenClaims(user, sessionId, issuer, at.getTime(), lifetimeMs, extraClaims === undefined ? {} : extraClaims(user))),
    verify (token) {
      const claims = parse(token)
      return claims === null ? null : { claims, expired: claims.exp * 1000 <= now().getTime() }
    }
  }
}

function signerFor (key: HmacKey): (claims: Record<string, unknown>) => string {
  const header = { alg: key.algorithm, typ: ACCESS_TOKEN_TYPE, ...(key.kid === undefined ? {} : { kid: key.kid }) }
  return createSigner({ key: key.secret, algorithm: key.algorithm, header })
}

function verifierFor (key: HmacKey, issuer: string): (token: string) => unknown {
  return createVerifier({
    key: key.secret,
    algorithms: [key.algorithm],
    checkTyp: ACCESS_TOKEN_TYPE,
    allowedIss: issuer,
    requiredClaims: ['sub', 'sid', 'iss', 'iat', 'exp'],
    // Expiry is judged against the injected clock, after verification.
    ignoreExpiration: true,
    cache: false
  })
}
