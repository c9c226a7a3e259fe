import { RETIRED_HASHES_KEPT, type Rotation, type Session } from '../ports/storage.ts'

/**
 * The rules of a session's life, in one place: the session service and every storage adapter use them,
 * so "live", "ends at" and what a rotation writes cannot drift apart.
 */

/** When the session stops being usable: the earlier of its sliding and its absolute expiry. */
export function endsAt (session: Pick<Session, 'expiresAt' | 'absoluteExpiresAt'>): Date {
  return earlier(session.expiresAt, session.absoluteExpiresAt)
}

/** Not revoked and not yet ended at `at`. */
export function isLive (session: Pick<Session, 'revokedAt' | 'expiresAt' | 'absoluteExpiresAt'>, at: Date): boolean {
  return session.revokedAt === null && endsAt(session) > at
}

/** When an ended session's row may be purged: its revocation, else its end. */
export function endedAt (session: Pick<Session, 'revokedAt' | 'expiresAt' | 'absoluteExpiresAt'>): Date {
  return session.revokedAt ?? endsAt(session)
}

/** A new session's sliding expiry, never past its absolute one. */
export function firstExpiry (at: Date, refreshTokenExpiryMs: number, absoluteExpiresAt: Date): Date {
  return earlier(new Date(at.getTime() + refreshTokenExpiryMs), absoluteExpiresAt)
}

/**
 * What a rotation writes: the new hash becomes current, the old one previous, the previous one joins
 * the retired hashes (newest first, the last `RETIRED_HASHES_KEPT`), and the sliding expiry moves,
 * never past the absolute one. Adapters apply it only if `current.refreshTokenHash` is still stored.
 */
export function rotationOf (current: Session, next: Rotation): Pick<Session, 'refreshTokenHash' | 'previousTokenHash' | 'retiredTokenHashes' | 'rotatedAt' | 'lastUsedAt' | 'expiresAt' | 'userAgent' | 'ip'> {
  return {
    refreshTokenHash: next.refreshTokenHash,
    previousTokenHash: current.refreshTokenHash,
    retiredTokenHashes: current.previousTokenHash === null
      ? current.retiredTokenHashes
      : [current.previousTokenHash, ...current.retiredTokenHashes].slice(0, RETIRED_HASHES_KEPT),
    rotatedAt: next.at,
    lastUsedAt: next.at,
    expiresAt: earlier(next.expiresAt, current.absoluteExpiresAt),
    userAgent: next.userAgent,
    ip: next.ip
  }
}

function earlier (a: Date, b: Date): Date {
  return a < b ? a : b
}
