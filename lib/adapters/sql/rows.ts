import type { Identity, OneTimeToken, Session, User } from '../../ports/storage.ts'
import type { Flag, IdentitiesTable, OneTimeTokensTable, SessionsTable, Timestamp, UsersTable } from './schema.ts'

// Rows into the port's types: fresh Dates, real booleans, null (never undefined) for absent values.
// Both dialects read alike: `new Date()` takes PostgreSQL's Date and SQLite's epoch milliseconds.

const time = (value: Timestamp): Date => new Date(value)
const maybeTime = (value: Timestamp | null): Date | null => (value === null ? null : new Date(value))
const flag = (value: Flag): boolean => value === true || value === 1

export function toUser (row: UsersTable): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    username: row.username,
    avatar: row.avatar,
    provider: row.provider,
    role: row.role,
    emailVerified: flag(row.email_verified),
    emailVerifiedBy: row.email_verified_by,
    passwordHash: row.password_hash,
    disabledAt: maybeTime(row.disabled_at),
    createdAt: time(row.created_at),
    updatedAt: time(row.updated_at)
  }
}

export function toIdentity (row: IdentitiesTable): Identity {
  return {
    provider: row.provider,
    issuer: row.issuer,
    subject: row.subject,
    userId: row.user_id,
    email: row.email,
    emailVerified: flag(row.email_verified),
    createdAt: time(row.created_at)
  }
}

/** Reads the JSON list of retired hashes, refusing anything but an array of strings. */
export function parseHashes (text: string): string[] {
  const value: unknown = JSON.parse(text)
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new Error('lcauth_sessions.retired_token_hashes is not a JSON array of strings')
  }
  return value
}

export function toSession (row: SessionsTable): Session {
  return {
    id: row.id,
    userId: row.user_id,
    refreshTokenHash: row.refresh_token_hash,
    previousTokenHash: row.previous_token_hash,
    rotatedAt: maybeTime(row.rotated_at),
    retiredTokenHashes: parseHashes(row.retired_token_hashes),
    createdAt: time(row.created_at),
    lastUsedAt: time(row.last_used_at),
    expiresAt: time(row.expires_at),
    absoluteExpiresAt: time(row.absolute_expires_at),
    userAgent: row.user_agent,
    ip: row.ip,
    revokedAt: maybeTime(row.revoked_at)
  }
}

export function toToken (row: OneTimeTokensTable): OneTimeToken {
  return {
    purpose: row.purpose,
    tokenHash: row.token_hash,
    userId: row.user_id,
    email: row.email,
    expiresAt: time(row.expires_at),
    createdAt: time(row.created_at),
    consumedAt: maybeTime(row.consumed_at)
  }
}
