import type { Clock } from '../clock.ts'
import { errors } from '../errors.ts'
import type { Ban, BanStore, BanSubject, WindowCount } from '../ports/ban-store.ts'
import { Lru } from 'toad-cache'

export interface ResilienceHooks {
  /** This process's own store (memory), which stands in while the shared one fails. */
  fallback: BanStore
  now: Clock
  /** How long to stay on the fallback after a failure before trying the shared store again, ms. */
  retryMs: number
  /** The shared store just failed (called once per outage). */
  onDown: (error: unknown) => void
  /** The shared store answers again. */
  onUp: () => void
}

/** Entries remembered per map (least recently used first out): a bound on memory under a flood of distinct keys. */
const MAX_REMEMBERED = 50_000

/**
 * A shared store (Redis, SQL) with a per-instance memory fallback: while the shared store fails, limits
 * and bans keep working from this process's memory instead of failing open or answering 500. During an
 * outage the shared store is retried at most every `retryMs`, so a dead server costs one failed command
 * per interval rather than one per request.
 *
 * Nothing is forgotten across the switch: the last counts and bans the shared store returned keep
 * counting during an outage; counts made during it still count after it; bans and violations recorded
 * during it are copied to the shared store once it is back. Lifting a ban needs the shared store, and
 * says so (FST_LCAUTH_STORAGE_UNAVAILABLE) rather than report a lift that did not happen.
 */
export function resilientBanStore (primary: BanStore, hooks: ResilienceHooks): BanStore {
  const { fallback } = hooks
  let down = false
  let retryAt = 0
  // Until this time the fallback may hold live counts that must be added to the shared store's.
  let fallbackLiveUntil = 0
  // What the shared store last said: window counts and scores by key, bans by subject.
  // Bounded, least recently used first out: a flood of distinct keys cannot grow them.
  const lastCounts = new Lru<{ count: number, until: number }>(MAX_REMEMBERED)
  const lastBans = new Lru<Ban>(MAX_REMEMBERED)
  const pending: Array<{ subject: BanSubject, type: string, score: number, ttlMs: number }> = []

  const usingFallback = (): boolean => down && hooks.now().getTime() < retryAt
  const failed = (error: unknown): void => {
    retryAt = hooks.now().getTime() + hooks.retryMs
    if (down) return
    down = true
    hooks.onDown(error)
  }
  const recovered = (): void => {
    if (!down) return
    down = false
    hooks.onUp()
    void copyOver()
  }
  /** Bans and violations recorded during the outage, into the shared store. */
  const copyOver = async (): Promise<void> => {
    try {
      for (const ban of await fallback.list(hooks.now())) await primary.put(ban)
      while (pending.length > 0) {
        const v = pending[0] as (typeof pending)[number]
        await primary.addViolation(v.subject, v.type, v.score, v.ttlMs, hooks.now())
        pending.shift()
      }
    } catch (error) {
      failed(error)
    }
  }
  const lastCount = (key: string, now: Date): number => {
    const last = lastCounts.get(key)
    return last !== undefined && last.until > now.getTime() ? last.count : 0
  }
  const subjectKey = (subject: BanSubject): string => `${subject.kind}\u0000${subject.id}`
  const scoreKey = (subject: BanSubject, type: string): string => `score\u0000${subjectKey(subject)}\u0000${type}`
  const fallbackLive = (now: Date): boolean => now.getTime() < fallbackLiveUntil
  const localUntil = (until: number): void => { fallbackLiveUntil = Math.max(fallbackLiveUntil, until) }

  /** Runs `shared` on the shared store, or `local` on the fallback while it is down or when `shared` fails. */
  async function either<T> (shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (!usingFallback()) {
      try {
        const result = await shared()
        recovered()
        return result
      } catch (error) {
        failed(error)
      }
    }
    return await local()
  }

  const store: BanStore = {
    kind: primary.kind,
    async find (subject, now) {
      const key = subjectKey(subject)
      return await either(async () => {
        const ban = await primary.find(subject, now)
        if (ban === null) lastBans.delete(key)
        else lastBans.set(key, ban)
        return ban ?? (fallbackLive(now) ? await fallback.find(subject, now) : null)
      }, async () => {
        const last = lastBans.get(key)
        return await fallback.find(subject, now) ?? (last !== undefined && last.expiresAt > now ? structuredClone(last) : null)
      })
    },
    async put (ban: Ban) {
      await either(() => primary.put(ban), async () => {
        localUntil(ban.expiresAt.getTime())
        await fallback.put(ban)
      })
    },
    async lift (subject: BanSubject) {
      const local = await fallback.lift(subject)
      lastBans.delete(subjectKey(subject))
      const shared = await either(() => primary.lift(subject), async () => null)
      if (shared === null) {
        const unavailable = new errors.FST_LCAUTH_STORAGE_UNAVAILABLE()
        unavailable.cause = new Error(`the ${primary.kind} ban store is unreachable: the ban stands there until it can be lifted`)
        throw unavailable
      }
      return shared || local
    },
    async list (now) {
      const shared = await either(() => primary.list(now), async () => null)
      const local = await fallback.list(now)
      if (shared === null) return local
      const seen = new Set(shared.map(b => subjectKey(b.subject)))
      return [...shared, ...local.filter(b => !seen.has(subjectKey(b.subject)))]
    },
    async addViolation (subject, type, score, ttlMs, now) {
      const key = scoreKey(subject, type)
      return await either(async () => {
        const total = await primary.addViolation(subject, type, score, ttlMs, now)
        lastCounts.set(key, { count: total, until: now.getTime() + ttlMs })
        return total
      }, async () => {
        if (pending.length < MAX_REMEMBERED) pending.push({ subject, type, score, ttlMs })
        return lastCount(key, now) + await fallback.addViolation(subject, type, score, ttlMs, now)
      })
    },
    async hit (key, windowMs, now, amount = 1): Promise<WindowCount> {
      const shared = await either(() => primary.hit(key, windowMs, now, amount), async () => null)
      if (shared === null) {
        const local = await fallback.hit(key, windowMs, now, amount)
        localUntil(local.resetAt.getTime())
        return { count: lastCount(key, now) + local.count, resetAt: local.resetAt }
      }
      lastCounts.set(key, { count: shared.count, until: shared.resetAt.getTime() })
      if (!fallbackLive(now)) return shared
      const local = await fallback.peek(key, now)
      return { count: shared.count + local.count, resetAt: shared.resetAt }
    },
    async peek (key, now) {
      const shared = await either(() => primary.peek(key, now), async () => null)
      const local = await fallback.peek(key, now)
      if (shared === null) return { count: lastCount(key, now) + local.count, resetAt: local.resetAt }
      if (local.count === 0) return shared
      return { count: shared.count + local.count, resetAt: shared.count === 0 ? local.resetAt : shared.resetAt }
    },
    async acquire (key, ttlMs, now) {
      return await either(() => primary.acquire(key, ttlMs, now), async () => {
        localUntil(now.getTime() + ttlMs)
        return await fallback.acquire(key, ttlMs, now)
      })
    },
    async release (key, now) {
      // A slot taken during an outage and given back after it is released on the shared store, never
      // below zero there; the fallback's copy runs out with its safety TTL.
      await either(() => primary.release(key, now), () => fallback.release(key, now))
    },
    async purge (now) {
      const local = await fallback.purge(now)
      return local + await either(() => primary.purge(now), async () => 0)
    },
    async close () {
      await fallback.close()
      await primary.close()
    }
  }
  if (primary.watch !== undefined) store.watch = primary.watch.bind(primary)
  if (primary.init !== undefined) {
    const init = primary.init.bind(primary)
    store.init = async () => {
      try {
        await init()
      } catch (error) {
        failed(error)
        throw error
      }
    }
  }
  return store
}
