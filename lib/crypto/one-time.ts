import { createHash } from 'node:crypto'
import { randomToken } from './random.ts'

/** A new one-time secret (32 random bytes, base64url) and the SHA-256 the store keeps instead of it. */
export function newOneTimeSecret (): { token: string, hash: string } {
  const token = randomToken(32)
  return { token, hash: oneTimeHash(token) }
}

/** SHA-256 is enough for 256-bit random secrets: nothing to brute-force, and it is what the store indexes. */
export function oneTimeHash (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}
