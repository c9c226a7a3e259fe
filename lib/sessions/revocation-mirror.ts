import type { Clock } from '../clock.ts'
import type { RevocationCursor, SessionStore } from '../ports/storage.ts'

/**
 * Each instance's in-memory copy of recently revoked session ids, so `authenticate` can refuse an
 * access token of an ended session in O(1) with no I/O. Storage stays the source of truth: the
 * mirror loads from it at start and polls it, so revocations by the CLI, another process or another
 * instance arrive within one poll interval; this instance's own revocations arrive at once. Polls
 * follow the store's cursor, not the revocation times: those come from the revokers' clocks, which
 * may lag this one (a laptop running the CLI, a drifting instance).
 * An id is kept for one access-token lifetime after its revocation (or after this instance learned of
 * it, when that is later): after that every access token of the session has expired anyway.
 */
export interface RevocationMirror {
  isRevoked(sessionId: string): boolean
  /** Records revocations this instance made (or learned of) right away. */
  add(sessionIds: readonly string[], at: Date): void
  /** Loads recent revocations and starts polling. */
  start(): Promise<void>
  /** One poll; exposed for tests and for callers that want to catch up now. */
  poll(): Promise<void>
  stop(): void
}

export function revocationMirror (deps: {
  sessions: SessionStore
  now: Clock
  /** How long an id stays: the access-token lifetime. */
  retentionMs: number
  pollIntervalMs: number
  onPollError: (error: unknown) => void
}): RevocationMirror {
  const { sessions, now, retentionMs, pollIntervalMs, onPollError } = deps
  /** session id → when it was revoked (ms). */
  const revoked = new Map<string, number>()
  let cursor: RevocationCursor | null = null
  let timer: NodeJS.Timeout | null = null
  let polling: Promise<void> | null = null

  const add = (ids: readonly string[], at: Date): void => {
    for (const id of ids) if (!revoked.has(id)) revoked.set(id, at.getTime())
  }

  const prune = (nowMs: number): void => {
    // Map iteration follows insertion order, which is close to revocation order: stop at the first keeper.
    for (const [id, at] of revoked) {
      if (at + retentionMs > nowMs) break
      revoked.delete(id)
    }
  }

  const pollOnce = async (): Promise<void> => {
    const started = now().getTime()
    const feed = await sessions.listRevokedSince(cursor ?? new Date(started - retentionMs))
    // A revocation stamped by a clock behind this one is still kept a full lifetime from now.
    const keepFrom = cursor === null ? 0 : started
    for (const { id, revokedAt } of feed.revocations) if (!revoked.has(id)) revoked.set(id, Math.max(revokedAt.getTime(), keepFrom))
    cursor = feed.cursor
    prune(started)
  }

  const poll = (): Promise<void> => {
    // One poll at a time: a slow store must not pile up overlapping queries.
    polling ??= pollOnce().finally(() => { polling = null })
    return polling
  }

  return {
    isRevoked: (sessionId) => revoked.has(sessionId),
    add,
    poll,
    async start () {
      await poll()
      timer = setInterval(() => { poll().catch(onPollError) }, pollIntervalMs)
      timer.unref()
    },
    stop () {
      if (timer !== null) clearInterval(timer)
      timer = null
    }
  }
}
