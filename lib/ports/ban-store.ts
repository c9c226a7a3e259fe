/** Who a ban or a violation score is about. */
export interface BanSubject {
  kind: 'ip' | 'user'
  /** A client address key (IPv6 grouped by /64) or a user id. */
  id: string
}

export interface Ban {
  subject: BanSubject
  /** The violation type that led to it, or `operator` for a ban an administrator set. */
  reason: string
  createdAt: Date
  expiresAt: Date
}

/** A fixed-window counter: how many hits the current window has seen, and when it ends. */
export interface WindowCount {
  count: number
  resetAt: Date
}

/**
 * Where bans, violation scores and limiter counters live. The moderation system builds on it; adapters
 * must pass `test/conformance/ban-store.ts`. Every time is passed in: a store compares against `now`,
 * never against its own clock (a store with its own expiry, like Redis TTLs, expires keys no earlier
 * than the time passed in says). Keys and ids may contain any character, ":" included.
 */
export interface BanStore {
  /** What backs it (`memory`, `sqlite`, `postgres`, `redis`), for logs and warnings. */
  readonly kind: string
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
  /**
   * Fixed-window limiter counter, atomic: adds `amount` hits (default 1) to `key` and returns the
   * window's count and end. A window opens at the first hit after the previous one ended and lasts
   * `windowMs`. Of N concurrent hits on one key, each sees a different count, so a caller that adds
   * `amount` owns the counts `count - amount + 1` to `count`.
   */
  hit(key: string, windowMs: number, now: Date, amount?: number): Promise<WindowCount>
  /** The live window of `key` at `now`, unchanged; `{ count: 0, resetAt: now }` when there is none. */
  peek(key: string, now: Date): Promise<WindowCount>
  /**
   * In-flight counter, atomic: adds one and returns the new count. The counter expires `ttlMs` after
   * its latest acquire, a safety net for a release that never came.
   */
  acquire(key: string, ttlMs: number, now: Date): Promise<number>
  /** Takes one off an in-flight counter, never below zero. */
  release(key: string, now: Date): Promise<void>
  /**
   * Optional push channel: `listener` hears of every ban put or lifted through any client of the same
   * store (this one included). Returns a function that stops listening. A store without it is polled.
   */
  watch?(listener: (subject: BanSubject) => void): () => void
  /**
   * Optional: resolves once the store can serve requests, or rejects after a bounded wait. The plugin
   * calls it at start and, if it rejects, starts on its per-instance fallback with a warning.
   */
  init?(): Promise<void>
  /** Deletes what expired before `now` (stores with their own expiry may do nothing); returns how many. */
  purge(now: Date): Promise<number>
  close(): Promise<void>
}
