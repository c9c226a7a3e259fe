import type { Ban, BanStore, BanSubject } from '../../ports/ban-store.ts'

const keyOf = (subject: BanSubject): string => JSON.stringify([subject.kind, subject.id])

/** Bans and scores in this process only: they reset on restart and are not shared between instances. */
export function memoryBanStore (): BanStore {
  const bans = new Map<string, Ban>()
  const scores = new Map<string, { total: number, expiresAt: number }>()
  return {
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
      const current = scores.get(key)
      const base = current && current.expiresAt > now.getTime() ? current.total : 0
      const total = base + score
      scores.set(key, { total, expiresAt: now.getTime() + ttlMs })
      return total
    },
    async close () {
      bans.clear()
      scores.clear()
    }
  }
}
