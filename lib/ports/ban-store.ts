/** Who a ban or a violation score is about. */
export interface BanSubject {
  kind: 'ip' | 'user'
  /** A client address key (IPv6 grouped by /64) or a user id. */
  id: string
}

export interface Ban {
  subject: BanSubject
  reason: string
  createdAt: Date
  expiresAt: Date
}

/**
 * Where bans and violation scores live. The moderation system builds on it; adapters must pass
 * `test/conformance/ban-store.ts`.
 */
export interface BanStore {
  /** The live ban of the subject at `now`, or null. */
  find(subject: BanSubject, now: Date): Promise<Ban | null>
  /** Creates or replaces the subject's ban. */
  put(ban: Ban): Promise<void>
  /** Lifts the subject's ban; false when there was none. Idempotent. */
  lift(subject: BanSubject): Promise<boolean>
  /** Live bans at `now`. */
  list(now: Date): Promise<Ban[]>
  /**
   * Atomic increment-and-read: adds `score` to the subject's score for `type`, which expires `ttlMs`
   * after this call, and returns the new total. Of N concurrent calls no increment is lost.
   */
  addViolation(subject: BanSubject, type: string, score: number, ttlMs: number, now: Date): Promise<number>
  close(): Promise<void>
}
