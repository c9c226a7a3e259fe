import type { BanStore } from './ban-store.ts'
/**
 * The storage port: everything the auth system keeps. Adapters (memory, SQL, ...) implement it and
 * must pass `test/conformance/` unchanged. Every method returns `null` for "not found" and never
 * throws for it; a thrown error means the store itself failed.
 */

export type Role = 'USER' | 'ADMIN'

/**
 * Who vouched for a user's email. Only `mail` (a verification link was followed) and `reset` (a reset
 * link was used) mean this system saw the mailbox itself; they alone let a provider identity be linked
 * by email. `provider`: a social or OpenID provider said so; `operator`: the CLI or an admin call;
 * `import`: a LibreChat import; `legacy`: verified before the source was recorded.
 */
export type EmailVerifier = 'mail' | 'reset' | 'provider' | 'operator' | 'import' | 'legacy'

export interface User {
  id: string
  /** Canonical form (lib/accounts/email.ts); unique. */
  email: string
  name: string
  username: string | null
  avatar: string | null
  /** How the account was first created: `local`, `google`, ... */
  provider: string
  role: Role
  emailVerified: boolean
  /** Who vouched for the email; null while it is unverified. */
  emailVerifiedBy: EmailVerifier | null
  /** Null for accounts without a password (social-only). */
  passwordHash: string | null
  disabledAt: Date | null
  createdAt: Date
  updatedAt: Date
}

export interface NewUser {
  email: string
  name: string
  username: string | null
  avatar?: string | null
  provider: string
  emailVerified: boolean
  /** Who vouched for the email when `emailVerified`; default null. */
  emailVerifiedBy?: EmailVerifier | null
  passwordHash: string | null
  /** Omit to let the store decide: ADMIN for the very first user, USER otherwise (atomically). */
  role?: Role
  /** Imports keep their original id; otherwise the store generates one. */
  id?: string
}

export type UserPatch = Partial<Pick<User, 'name' | 'username' | 'avatar' | 'role' | 'emailVerified' | 'emailVerifiedBy' | 'passwordHash' | 'disabledAt'>>

export interface UserStore {
  /**
   * Atomic: inserts the user unless the email is taken (then returns null). When `role` is omitted,
   * the role is decided inside the same atomic step: of any number of concurrent first creations on
   * an empty store, exactly one becomes ADMIN.
   */
  create(user: NewUser, now: Date): Promise<User | null>
  findById(id: string): Promise<User | null>
  /** `email` must already be canonical. */
  findByEmail(email: string): Promise<User | null>
  /** Users in creation order (oldest first; equal times in creation order), a page at a time. */
  list(page: { offset: number, limit: number }): Promise<User[]>
  /** Returns the updated user, or null when it does not exist. */
  update(id: string, patch: UserPatch, now: Date): Promise<User | null>
  /**
   * Deletes the user with their identities and one-time tokens, and revokes (at `now`) every session
   * of theirs not yet revoked, returning those ids. The revoked session rows stay until `purge` removes
   * them, so every instance's revocation mirror sees them. Idempotent.
   */
  delete(id: string, now: Date): Promise<string[]>
}

export interface Identity {
  provider: string
  /** The issuer for OpenID Connect providers; the provider name otherwise. */
  issuer: string
  subject: string
  userId: string
  /** The email the provider gave at the latest sign-in (canonical), and whether the provider verified it. */
  email: string | null
  emailVerified: boolean
  createdAt: Date
}

/** Which identity: the store's key. */
export type IdentityKey = Pick<Identity, 'provider' | 'issuer' | 'subject'>

export interface IdentityStore {
  /** Atomic: null when (provider, issuer, subject) is already linked. */
  create(identity: Identity): Promise<Identity | null>
  find(provider: string, issuer: string, subject: string): Promise<Identity | null>
  /** Oldest first. */
  listByUser(userId: string): Promise<Identity[]>
  /** Records what the provider said at the latest sign-in; null when the identity does not exist. */
  update(key: IdentityKey, patch: Pick<Identity, 'email' | 'emailVerified'>): Promise<Identity | null>
  /** Unlinks one identity; false when it was not there. */
  delete(key: IdentityKey): Promise<boolean>
  /**
   * Unlinks every identity of the user whose provider email was not verified and returns them (oldest
   * first): done when the owner proves the mailbox (a reset or a verification), so whoever linked an
   * unverified provider email to the account loses that way in.
   */
  deleteUnverifiedForUser(userId: string): Promise<Identity[]>
}

export interface Session {
  id: string
  userId: string
  refreshTokenHash: string
  /** The token this one replaced, kept to tell a two-tab race from reuse. */
  previousTokenHash: string | null
  rotatedAt: Date | null
  /** Earlier tokens of this session (newest first, at most 16): presenting one is reuse. */
  retiredTokenHashes: string[]
  createdAt: Date
  lastUsedAt: Date
  /** Sliding expiry. */
  expiresAt: Date
  /** Absolute cap; never moved by rotation. */
  absoluteExpiresAt: Date
  userAgent: string | null
  ip: string | null
  revokedAt: Date | null
}

export type NewSession = Pick<Session, 'id' | 'userId' | 'refreshTokenHash' | 'createdAt' | 'expiresAt' | 'absoluteExpiresAt' | 'userAgent' | 'ip'>

export interface Rotation {
  refreshTokenHash: string
  at: Date
  expiresAt: Date
  userAgent: string | null
  ip: string | null
}

export const RETIRED_HASHES_KEPT = 16

/** A position in a store's revocation feed: opaque, handed out by `listRevokedSince` and only meaningful to the store that made it. */
export type RevocationCursor = string & { readonly __revocationCursor: true }

/** What one read of the revocation feed returns. */
export interface RevocationFeed {
  revocations: Array<{ id: string, revokedAt: Date }>
  /** Where the next read continues. */
  cursor: RevocationCursor
}

export interface SessionStore {
  /** Session ids are random; a duplicate id is a store error. */
  create(session: NewSession): Promise<Session>
  findById(id: string): Promise<Session | null>
  /**
   * Atomic compare-and-swap: only if `expectedHash` is still the current token AND the session is live
   * at `next.at` (not revoked, neither expiry passed), replaces it with `next.refreshTokenHash`, moves
   * the old hash to `previousTokenHash` and the one before into `retiredTokenHashes`.
   * Of N concurrent calls with the same `expectedHash`, exactly one returns the updated session; the rest null.
   */
  rotate(id: string, expectedHash: string, next: Rotation): Promise<Session | null>
  /** Marks the session revoked (keeps the first revocation time). Idempotent; false when it does not exist or was already revoked. */
  revoke(id: string, at: Date): Promise<boolean>
  /** Revokes every not yet revoked session of the user except `exceptId`; returns the ids it revoked. */
  revokeAllForUser(userId: string, at: Date, exceptId?: string): Promise<string[]>
  /** Live sessions of the user at `now`, newest first (by `createdAt`; equal times in reverse order of creation). */
  listLiveByUser(userId: string, now: Date): Promise<Session[]>
  /**
   * The revocation feed every instance's mirror polls. From a Date (the first call): the sessions
   * with `revokedAt` at or after it. From a cursor this store handed out: every revocation that became
   * visible after that cursor was handed out, whatever its `revokedAt` says — `revokedAt` comes from
   * the revoker's clock (another machine, the CLI on a laptop), so it cannot order the feed. Each call
   * returns the cursor to pass next time; a revocation may be listed again (callers dedupe by id), but
   * none committed after a cursor is ever skipped by the next call, whichever order concurrent
   * revocations commit in and however long a revoking statement waited on a lock. Revoked rows must
   * be kept (not deleted) for at least one access-token lifetime after their revocation.
   */
  listRevokedSince(from: Date | RevocationCursor): Promise<RevocationFeed>
  /** Deletes sessions that ended (revoked, or past either expiry) before `before`; returns how many. */
  purge(before: Date): Promise<number>
}

export type OneTimeTokenPurpose = 'password_reset' | 'email_verification' | 'invite'

export interface OneTimeToken {
  purpose: OneTimeTokenPurpose
  tokenHash: string
  userId: string | null
  email: string
  expiresAt: Date
  createdAt: Date
  consumedAt: Date | null
}

export type NewOneTimeToken = Omit<OneTimeToken, 'consumedAt'>

export interface OneTimeTokenStore {
  create(token: NewOneTimeToken): Promise<OneTimeToken>
  /**
   * Atomic: marks the unexpired, unconsumed token with this purpose and hash consumed and returns it.
   * Of N concurrent consumers exactly one gets the token; the rest (and any later caller) get null.
   */
  consume(purpose: OneTimeTokenPurpose, tokenHash: string, now: Date): Promise<OneTimeToken | null>
  /** Deletes the user's tokens of one purpose (all purposes when omitted); returns how many. */
  deleteForUser(userId: string, purpose?: OneTimeTokenPurpose): Promise<number>
  /** Deletes tokens that expired or were consumed before `before`; returns how many. */
  purge(before: Date): Promise<number>
}

export interface Storage {
  users: UserStore
  identities: IdentityStore
  sessions: SessionStore
  oneTimeTokens: OneTimeTokenStore
  /** A short name for logs and warnings (`memory`, `sqlite`, ...). */
  readonly kind: string
  /** Prepares the store (for SQL: runs pending migrations unless told not to). The plugin awaits it at registration. */
  init(): Promise<void>
  /**
   * A BanStore in the same database, when the backend offers one (the SQL storages do): the default
   * home of bans, so the CLI can ban and unban a running server's users. Closing it leaves the
   * database open; closing the storage closes both.
   */
  banStore?(): BanStore
  /** Releases connections; the plugin calls it on close when it opened the storage. */
  close(): Promise<void>
}
