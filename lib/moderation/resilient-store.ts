import { memoryBanStore } from '../adapters/memory/ban-store.ts'
import type { Clock } from '../clock.ts'
import type { Ban, BanStore, BanSubject, WindowCount } from '../ports/ban-store.ts'

export interface ResilienceHooks {
  now: Clock
  /** How long to stay on the fallback after a failure before trying the shared store again, ms. */
  retryMs: number
  /** The shared store just failed (called once per outage). */
  onDown: (error: unknown) => void
  /** The shared store answers again. */
  onUp: () => void
}

/**
 * A shared store (Redis, SQL) with a per-instance memory fallback: while the shared store fails, limits
 * and bans keep working from this process's memory instead of failing open or answering 500. During an
 * outage the shared store is retried at most every `retryMs`, so a dead server costs one failed command
 * per interval rather than one per request. What the fallback counted still counts after recovery, so
 * switching stores never lets a client burst past a limit; bans it recorded are copied to the shared
 * store once it is back.
 */
export function resilientBanStore (primary: BanStore, hooks: ResilienceHooks): BanStore {
  const fallback = memoryBanStore()
  let down = false
  let retryAt = 0
  // Until this time the fallback may hold live counts or bans that must be added to the shared store's.
  let fallbackLiveUntil = 0

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
    void copyBans()
  }
  const copyBans = async (): Promise<void> => {
    try {
      for (const ban of await fallback.list(hooks.now())) await primary.put(ban)
    } catch (error) {
      failed(error)
    }
  }
  const remember = (until: number): void => { fallbackLiveUntil = Math.max(fallbackLiveUntil, until) }
  const fallbackLive = (now: Date): boolean => now.getTime() < fallbackLiveUntil

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
      const found = await either(() => primary.find(subject, now), () => fallback.find(subject, now))
      if (found !== null || !fallbackLive(now)) return found
      return await fallback.find(subject, now)
    },
    async put (ban: Ban) {
      await either(() => primary.put(ban), async () => {
        remember(ban.expiresAt.getTime())
        await fallback.put(ban)
      })
    },
    async lift (subject: BanSubject) {
      // A ban may sit in either place: lift both.
      const local = await fallback.lift(subject)
      return await either(async () => (await primary.lift(subject)) || local, async () => local)
    },
    async list (now) {
      const shared = await either(() => primary.list(now), async () => null)
      const local = await fallback.list(now)
      if (shared === null) return local
      const seen = new Set(shared.map(b => `${b.subject.kind}\u0000${b.subject.id}`))
      return [...shared, ...local.filter(b => !seen.has(`${b.subject.kind}\u0000${b.subject.id}`))]
    },
    async addViolation (subject, type, score, ttlMs, now) {
      return await either(() => primary.addViolation(subject, type, score, ttlMs, now), async () => {
        remember(now.getTime() + ttlMs)
        return await fallback.addViolation(subject, type, score, ttlMs, now)
      })
    },
    async hit (key, windowMs, now): Promise<WindowCount> {
      const shared = await either(() => primary.hit(key, windowMs, now), async () => null)
      if (shared === null) {
        const local = await fallback.hit(key, windowMs, now)
        remember(local.resetAt.getTime())
        return local
      }
      if (!fallbackLive(now)) return shared
      const local = await fallback.peek(key, now)
      return { count: shared.count + local.count, resetAt: shared.resetAt }
    },
    async peek (key, now) {
      const shared = await either(() => primary.peek(key, now), async () => null)
      const local = await fallback.peek(key, now)
      if (shared === null || local.count === 0) return shared ?? local
      return { count: shared.count + local.count, resetAt: shared.count === 0 ? local.resetAt : shared.resetAt }
    },
    async acquire (key, ttlMs, now) {
      return await either(() => primary.acquire(key, ttlMs, now), async () => {
        remember(now.getTime() + ttlMs)
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
