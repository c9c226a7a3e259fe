import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { Clock } from '../../lib/clock.ts'
import type { BanStore } from '../../lib/ports/ban-store.ts'

/**
 * @fastify/rate-limit's store interface over our BanStore's fixed-window counters, so its limiters
 * count wherever bans live (memory, SQL, Redis with a memory fallback) and on the injected clock.
 */
export function rateLimitStore (store: BanStore, now: Clock): FastifyRateLimitStoreCtor {
  const answer = (promise: Promise<{ count: number, resetAt: Date }>, at: Date, callback: (error: Error | null, result?: { current: number, ttl: number }) => void): void => {
    promise.then(
      window => { callback(null, { current: window.count, ttl: Math.max(0, window.resetAt.getTime() - at.getTime()) }) },
      (error: unknown) => { callback(error instanceof Error ? error : new Error(String(error))) }
    )
  }
  return class BanStoreCounters implements FastifyRateLimitStore {
    constructor (_options: FastifyRateLimitOptions) {}
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      const at = now()
      answer(store.hit(key, timeWindow, at), at, callback)
    }

    child (): FastifyRateLimitStore {
      return this
    }
  }
}
