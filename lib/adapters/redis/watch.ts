import type { Redis } from 'ioredis'
import type { BanSubject } from '../../ports/ban-store.ts'
import { settle, shut, subscriberOf } from './connection.ts'
import { parseSubject } from './keys.ts'

export interface BanWatcher {
  /** Starts hearing subjects put or lifted; returns the function that stops it. */
  add: (listener: (subject: BanSubject) => void) => () => void
  /**
   * Resolves once the subscription is confirmed (waiting `waitMs` at most, once): a store that
   * publishes right after its own watch() started would otherwise publish before SUBSCRIBE lands.
   */
  subscribed: () => Promise<void>
  close: () => Promise<void>
}

/** One subscriber connection per store, opened on the first listener and shared by all of them. */
export function banWatcher (client: Redis, channel: string, waitMs: number): BanWatcher {
  const listeners = new Set<(subject: BanSubject) => void>()
  let subscriber: Redis | undefined
  let gate: Promise<void> = Promise.resolve()
  let closed = false

  // The subscriber listens to this one channel only, so every message is about it.
  const deliver = (_channel: string, message: string): void => {
    const subject = parseSubject(message)
    if (subject === null) return
    for (const listener of [...listeners]) {
      try {
        listener({ ...subject })
      } catch {
        // One listener throwing must not keep the others from hearing; its error is its own.
      }
    }
  }

  return {
    add (listener) {
      if (closed) return () => {}
      if (subscriber === undefined) {
        subscriber = subscriberOf(client, waitMs)
        subscriber.on('message', deliver)
        gate = settle(subscriber.subscribe(channel), waitMs)
      }
      // A wrapper per call, so the same function watching twice is two listeners, stopped separately.
      const entry = (subject: BanSubject): void => listener(subject)
      listeners.add(entry)
      return () => { listeners.delete(entry) }
    },
    subscribed: () => gate,
    async close () {
      closed = true
      listeners.clear()
      if (subscriber !== undefined) await shut(subscriber, waitMs)
    }
  }
}
