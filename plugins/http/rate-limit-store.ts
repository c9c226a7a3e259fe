import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { Lru } from 'toad-cache'
import type { Clock } from '../../lib/clock.ts'
import type { BanStore, WindowCount } from '../../lib/ports/ban-store.ts'

type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void

/** Counts reserved in one round trip at most; and never more than 1/16 of what is left of the budget. */
const MAX_LEASE = 64
const LEASE_SHARE = 16
const MAX_LEASED_KEYS = 10_000

/**
 * @fastify/rate-limit's store interface over our BanStore's fixed-window counters, so its limiters
 * count wherever bans live (memory, SQL, Redis with a memory fallback) and on the injected clock.
 *
 * With a shared store, a key far from its limit reserves a small run of counts at once (a lease) and
 * hands them out locally, so a busy key costs one round trip per run instead of one per request. The
 * store gives every caller its own counts, so instances never hand out the same one and no more than
 * `max` requests pass in total; a lease shrinks to one count as the budget runs out, so near the limit
 * every hit is counted in the shared store. What a lease held back can only make the limit stricter.
 */
export function rateLimitStore (store: BanStore, now: Clock): FastifyRateLimitStoreCtor {
  const shared = store.kind !== 'memory'
  const leases = new Lru<{ next: number, last: number, resetAt: number }>(MAX_LEASED_KEYS)
  // A reservation on its way, per key: others wait for it rather than each reserve a run of their own.
  const reserving = new Map<string, Promise<unknown>>()

  const answer = (promise: Promise<WindowCount>, at: number, amount: number, key: string, callback: Callback): void => {
    promise.then(
      window => {
        const first = window.count - amount + 1
        const resetAt = window.resetAt.getTime()
        if (amount > 1) leases.set(key, { next: first + 1, last: window.count, resetAt })
        callback(null, { current: first, ttl: Math.max(0, resetAt - at) })
      },
      (error: Error) => { callback(error) }
    )
  }

  return class BanStoreCounters implements FastifyRateLimitStore {
    constructor (_options: FastifyRateLimitOptions) {}
    incr (key: string, callback: Callback, timeWindow: number, max: number): void {
      const at = now()
      const ms = at.getTime()
      const lease = shared ? leases.get(key) : undefined
      if (lease !== undefined && lease.resetAt > ms && lease.next <= lease.last) {
        callback(null, { current: lease.next++, ttl: lease.resetAt - ms })
        return
      }
      const pending = shared ? reserving.get(key) : undefined
      if (pending !== undefined) {
        void pending.then(() => { this.incr(key, callback, timeWindow, max) })
        return
      }
      const used = lease !== undefined && lease.resetAt > ms ? lease.last : 0
      const amount = shared ? Math.max(1, Math.min(MAX_LEASE, Math.floor((max - used) / LEASE_SHARE))) : 1
      const hit = store.hit(key, timeWindow, at, amount)
      if (amount > 1) {
        const done = hit.then(() => { reserving.delete(key) }, () => { reserving.delete(key) })
        reserving.set(key, done)
      }
      answer(hit, ms, amount, key, callback)
    }

    child (): FastifyRateLimitStore {
      return this
    }
  }
}
