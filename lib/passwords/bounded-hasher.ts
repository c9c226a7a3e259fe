import { errors } from '../errors.ts'
import type { PasswordHasher } from './hasher.ts'

export interface HashBounds {
  /** Hashes running at once. */
  concurrency: number
  /** A job that would wait longer than this (estimated from recent hash times) is refused with 503. */
  maxWaitMs: number
}

/** Thrown when the hash queue is full; carries how long to wait before retrying. */
export type BusyError = InstanceType<typeof errors.FST_LCAUTH_BUSY> & { retryAfterSeconds: number }

/**
 * Bounds password hashing: at most `concurrency` bcrypt jobs at once, the rest in a FIFO queue. A new
 * job is shed only when its expected wait (queue length × the running average of hash times ÷
 * concurrency) passes `maxWaitMs`, so a flood of logins cannot pile up unbounded work while normal
 * bursts just wait their turn.
 */
export function boundedHasher (inner: PasswordHasher, bounds: HashBounds): PasswordHasher & { readonly queued: number, readonly running: number } {
  const queue: Array<() => void> = []
  let running = 0
  // Exponentially weighted average of recent job durations; seeded with a typical cost-12 bcrypt time.
  let averageMs = 250

  async function run<T> (job: () => Promise<T>): Promise<T> {
    if (running >= bounds.concurrency) {
      const expectedWait = ((queue.length + 1) * averageMs) / bounds.concurrency
      if (expectedWait > bounds.maxWaitMs) {
        const busy = new errors.FST_LCAUTH_BUSY() as BusyError
        busy.retryAfterSeconds = Math.max(1, Math.ceil(expectedWait / 1000))
        throw busy
      }
      // The finishing job hands its slot straight to us, so no newcomer can slip in between.
      await new Promise<void>(resolve => queue.push(resolve))
    } else {
      running++
    }
    const started = performance.now()
    try {
      return await job()
    } finally {
      averageMs = averageMs * 0.8 + (performance.now() - started) * 0.2
      const next = queue.shift()
      if (next) next()
      else running--
    }
  }

  return {
    hash: (password) => run(() => inner.hash(password)),
    verify: (password, stored) => run(() => inner.verify(password, stored)),
    needsRehash: (stored) => inner.needsRehash(stored),
    get queued () { return queue.length },
    get running () { return running }
  }
}
