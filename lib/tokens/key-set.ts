/** Access tokens are JWTs with this `typ` header (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** An HMAC key: the one kind this release signs with (`JWT_SECRET`, used as its raw UTF-8 bytes). */
export interface HmacKey {
  readonly kind: 'hmac'
  readonly algorithm: 'HS256'
  readonly secret: string
  /** Sent as the token's `kid` header when set, so a verifier can pick the key. */
  readonly kid?: string
}

/**
 * The keys access tokens are signed and verified with. One algorithm per key, pinned: a token is
 * checked only with the algorithm of the key it names, never the one its header asks for. Today one
 * HMAC secret; the shape leaves room for asymmetric keys published as a JWKS, and for keys kept only to
 * verify while a rotation runs, without any change to routes or services.
 */
export interface AccessTokenKeySet {
  /** Signs every new token. */
  readonly signing: HmacKey
  /** Keys a token may be verified with, the signing key first. */
  readonly verifying: readonly HmacKey[]
}

/** The key set of a deployment configured with one `JWT_SECRET`. */
export function hmacKeySet (secret: string): AccessTokenKeySet {
  const key: HmacKey = { kind: 'hmac', algorithm: 'HS256', secret }
  return { signing: key, verifying: [key] }
}
