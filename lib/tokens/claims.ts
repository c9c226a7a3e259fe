import type { Role, User } from '../ports/storage.ts'

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

/** fast-jwt only hands over JSON objects (it refuses other payloads), so only the fields need checking. */
export function isAccessClaims (payload: unknown): payload is AccessClaims {
  const p = payload as Record<string, unknown>
  return typeof p.sub === 'string' && typeof p.sid === 'string' && typeof p.exp === 'number' && typeof p.iat === 'number' &&
    typeof p.email === 'string' && (p.role === 'USER' || p.role === 'ADMIN')
}
