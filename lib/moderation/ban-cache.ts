import type { Ban, BanStore, BanSubject } from '../ports/ban-store.ts'
import { Lru } from 'toad-cache'

const MAX_ENTRIES = 10_000

/**
 * Ban lookups remembered for `ttlMs`, so the hot path of a busy route usually costs no store round
 * trip. A store that pushes changes (`watch`) drops an entry the moment any instance bans or lifts
 * that subject; without one, a change made elsewhere shows within `ttlMs`. A cached ban is never
 * kept past its own end.
 */
export function banCache (store: BanStore, ttlMs: number): {
  find(subject: BanSubject, now: Date): Promise<Ban | null>
  /** The cached answer without any I/O: a ban, null (not banned), or undefined when the cache cannot say. */
  peek(subject: BanSubject, now: Date): Ban | null | undefined
  forget(subject: BanSubject): void
  stop(): void
} {
  // Least recently used first out: a flood of distinct subjects cannot grow it past MAX_ENTRIES.
  const entries = new Lru<{ ban: Ban | null, until: number }>(MAX_ENTRIES)
  const keyOf = (subject: BanSubject): string => `${subject.kind}\u0000${subject.id}`
  const forget = (subject: BanSubject): void => { entries.delete(keyOf(subject)) }
  const unwatch = store.watch?.(forget)
  return {
    async find (subject, now) {
      const key = keyOf(subject)
      const cached = entries.get(key)
      if (cached !== undefined && cached.until > now.getTime()) return cached.ban
      const ban = await store.find(subject, now)
      if (ttlMs > 0) {
        const until = now.getTime() + ttlMs
        entries.set(key, { ban, until: ban === null ? until : Math.min(until, ban.expiresAt.getTime()) })
      }
      return ban
    },
    peek (subject, now) {
      const cached = entries.get(keyOf(subject))
      return cached !== undefined && cached.until > now.getTime() ? cached.ban : undefined
    },
    forget,
    stop () {
      unwatch?.()
      entries.clear()
    }
  }
}
