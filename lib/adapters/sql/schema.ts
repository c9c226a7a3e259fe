import type { EmailVerifier, OneTimeTokenPurpose, Role } from '../../ports/storage.ts'

/**
 * The tables of the SQL storage as Kysely sees them. Column types are what the drivers hand back
 * and accept: a `Timestamp` is a `Date` on PostgreSQL (`timestamptz`) and epoch milliseconds on
 * SQLite (`integer`); a `Flag` is a `boolean` on PostgreSQL and 0/1 on SQLite. Rows are turned into
 * the port's types in `rows.ts`, and values into the dialect's form by the `SqlContext` codec.
 */

export type Timestamp = Date | number
export type Flag = boolean | number

export interface UsersTable {
  id: string
  email: string
  name: string
  username: string | null
  avatar: string | null
  provider: string
  role: Role
  email_verified: Flag
  /** Added by migration 0004; null while unverified. */
  email_verified_by: EmailVerifier | null
  password_hash: string | null
  disabled_at: Timestamp | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface IdentitiesTable {
  provider: string
  issuer: string
  subject: string
  user_id: string
  email: string | null
  email_verified: Flag
  created_at: Timestamp
}

export interface SessionsTable {
  id: string
  user_id: string
  refresh_token_hash: string
  previous_token_hash: string | null
  rotated_at: Timestamp | null
  /** JSON array of strings, newest first. */
  retired_token_hashes: string
  created_at: Timestamp
  last_used_at: Timestamp
  expires_at: Timestamp
  absolute_expires_at: Timestamp
  user_agent: string | null
  ip: string | null
  revoked_at: Timestamp | null
  /**
   * Set by the database (a trigger) when `revoked_at` is first set: the revocation feed's order,
   * `clock_timestamp()` on PostgreSQL, the next `lcauth_revocation_counter` value on SQLite.
   */
  revocation_mark: Timestamp | null
}

export interface OneTimeTokensTable {
  purpose: OneTimeTokenPurpose
  token_hash: string
  user_id: string | null
  email: string
  expires_at: Timestamp
  created_at: Timestamp
  consumed_at: Timestamp | null
}

/** A ban of an ip or a user (see the BanStore port); live while `expires_at` is after now. */
export interface BansTable {
  kind: 'ip' | 'user'
  subject: string
  reason: string
  created_at: Timestamp
  expires_at: Timestamp
}

/** A violation score per (subject, type); it counts only while `expires_at` is after now. */
export interface ViolationScoresTable {
  kind: 'ip' | 'user'
  subject: string
  type: string
  total: number
  expires_at: Timestamp
}

/** A fixed-window limiter counter; the window ends at `reset_at`. */
export interface LimiterWindowsTable {
  key: string
  count: number
  reset_at: Timestamp
}

/** An in-flight counter; `expires_at` is the safety net for releases that never came. */
export interface InFlightTable {
  key: string
  count: number
  expires_at: Timestamp
}

/** SQLite only: the one-row counter behind `revocation_mark` (id is always 1). */
export interface RevocationCounterTable {
  id: number
  value: number
}

/**
 * Every table, by name. Not listed: the insertion-order column used to break ties between equal
 * creation times (`rowid` on SQLite, a `seq bigserial` column on PostgreSQL), which only appears
 * in ORDER BY clauses (see `SqlContext.insertionOrder`).
 */
export interface Database {
  lcauth_users: UsersTable
  lcauth_identities: IdentitiesTable
  lcauth_sessions: SessionsTable
  lcauth_one_time_tokens: OneTimeTokensTable
  lcauth_bans: BansTable
  lcauth_violation_scores: ViolationScoresTable
  lcauth_limiter_windows: LimiterWindowsTable
  lcauth_in_flight: InFlightTable
  lcauth_revocation_counter: RevocationCounterTable
}

