import { randomBytes } from 'node:crypto'

/** `bytes` random bytes from the CSPRNG as base64url text. */
export function randomToken (bytes: number): string {
  return randomBytes(bytes).toString('base64url')
}

/** A new opaque id: 128 random bits. */
export function randomId (): string {
  return randomToken(16)
}
