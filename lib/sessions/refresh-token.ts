import { hmac } from '../crypto/keys.ts'
import { randomToken } from '../crypto/random.ts'

/** 32 random bytes of secret per token. */
const SECRET_BYTES = 32
const PART = /^[A-Za-z0-9_-]+$/
const MAX_TOKEN_LENGTH = 200

/** A refresh token is `<sessionId>.<secret>`: opaque to the client, its session id readable to us. */
export function newRefreshToken (sessionId: string): string {
  return `${sessionId}.${randomToken(SECRET_BYTES)}`
}

/** The session id a presented token names, or null when it is not of our shape. */
export function sessionIdOf (token: string): string | null {
  if (token.length > MAX_TOKEN_LENGTH) return null
  const parts = token.split('.')
  if (parts.length !== 2 || !parts.every(part => PART.test(part))) return null
  return parts[0] as string
}

/** What the store keeps instead of the token: HMAC-SHA256 keyed by the refresh secret. */
export function refreshTokenHash (token: string, key: string): string {
  return hmac(key, token)
}
