import type { Ban, BanStore, BanSubject, WindowCount } from '../../ports/ban-store.ts'

const keyOf = (subject: BanSubject): string => JSON.stringify([subject.kind, subject.id])

interface Expiring { count: number, expiresAt: number }

/** Bans, scores and counters in this process only: they reset on restart and are not shared between instances. */
export function memoryBanStore (): BanStore {
  const bans = new Map<string, Ban>()
  const scores = new Map<string, Expiring>()
  const windows = new Map<string, Expiring>()
  const inFlight = new Map<string, Expiring>()
  const live = (map: Map<string, Expiring>, key: string, now: Date): Expiring | null => {
    const entry = map.get(key)
    if (entry === undefined) return null
    if (entry.expiresAt > now.getTime()) return entry
    map.delete(key)
    return null
  }
  const sweep = (map: Map<string, { expiresAt: number | Date }>, now: Date): number => {
    let removed = 0
    for (const [key, entry] of map) {
      if (entry.expiresAt.valueOf() <= now.getTime()) {
        map.delete(key)
        removed += 1
      }
    }
    return removed
  }
  return {
    kind: 'memory',
    async find (subject, now) {
      const ban = bans.get(keyOf(subject))
      if (!ban) return null
      if (ban.expiresAt <= now) {
        bans.delete(keyOf(subject))
        return null
      }
      return structuredClone(ban)
    },
    async put (ban) {
      bans.set(keyOf(ban.subject), structuredClone(ban))
    },
    async lift (subject) {
      return bans.delete(keyOf(subject))
    },
    async list (now) {
      return [...bans.values()].filter(b => b.expiresAt > now).map(b => structuredClone(b))
    },
    async addViolation (subject, type, score, ttlMs, now) {
      const key = JSON.stringify([subject.kind, subject.id, type])
      const count = (live(scores, key, now)?.count ?? 0) + score
      scores.set(key, { count, expiresAt: now.getTime() + ttlMs })
      return count
    },
    async hit (key, windowMs, now, amount = 1): Promise<WindowCount> {
      const window = live(windows, key, now) ?? { count: 0, expiresAt: now.getTime() + windowMs }
      window.count += amount
      windows.set(key, window)
      return { count: window.count, resetAt: new Date(window.expiresAt) }
    },
    async peek (key, now): Promise<WindowCount> {
      const window = live(windows, key, now)
      return window === null ? { count: 0, resetAt: new Date(now) } : { count: window.count, resetAt: new Date(window.expiresAt) }
    },
    async acquire (key, ttlMs, now) {
      const count = (live(inFlight, key, now)?.count ?? 0) + 1
      inFlight.set(key, { count, expiresAt: now.getTime() + ttlMs })
      return count
    },
    async release (key, now) {
      const entry = live(inFlight, key, now)
      if (entry === null) return
      entry.count -= 1
      if (entry.count <= 0) inFlight.delete(key)
    },
    async purge (now) {
      return sweep(bans, now) + sweep(scores, now) + sweep(windows, now) + sweep(inFlight, now)
    },
    async close () {
      bans.clear()
      scores.clear()
      windows.clear()
      inFlight.clear()
    }
  }
}
