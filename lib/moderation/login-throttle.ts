import { setTimeout as sleep } from 'node:timers/promises'
import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { retryLater } from '../errors.ts'
import type { AuthEventEmitter } from '../events.ts'
import type { BanStore } from '../ports/ban-store.ts'
import { addressKey } from './client-address.ts'
import type { LimitSetting } from './config.ts'

/** The longest an attempt on an account under attack is held back, ms. */
export const MAX_ACCOUNT_DELAY = 2000

/**
 * Login attempts per target account (checklist LOG-03/LOG-04, DESIGN §7). A client (/64) that failed
 * `max` times on one account in the window is refused with 429 for that account only; every other
 * client of the same account, the real owner included, keeps going. Once the account as a whole has
 * `max` failures, each attempt waits a little (growing, at most MAX_ACCOUNT_DELAY) before its password
 * is checked: a delay, never a lock, so no number of addresses can shut the owner out. None of this is
 * scored, bans anyone or ends a session. Accounts are keyed by a keyed hash of the canonical email,
 * whether or not the account exists, so throttling reveals nothing; the store never sees an email.
 */
export interface LoginThrottle {
  /** Before the password is checked: 429 for a client over its budget on this account; otherwise maybe a short wait. */
  before(email: string, context: RequestContext): Promise<void>
  /** After a failed attempt (unknown account, wrong password): counts against the client and the account. */
  failed(email: string, context: RequestContext): Promise<void>
}

export function loginThrottle (deps: {
  store: BanStore
  limit: LimitSetting
  dryRun: boolean
  events: AuthEventEmitter
  now: Clock
  /** A keyed hash of the email: limiter keys never hold an address in clear. */
  subjectOf: (email: string) => string
  /** Waits; replaced in tests. */
  wait?: (ms: number) => Promise<unknown>
}): LoginThrottle {
  const { store, limit, dryRun, events, now, subjectOf } = deps
  const wait = deps.wait ?? sleep
  const keys = (email: string, context: RequestContext): { subject: string, account: string, pair: string } => {
    const subject = subjectOf(email)
    const client = addressKey(context.ip ?? 'unknown')
    return { subject, account: `login-account:${subject}`, pair: `login-pair:v2:${subject}:${client}` }
  }
  const throttled = (context: RequestContext, subject: string, scope: 'client' | 'account', delayMs: number): void => {
    events.emit('security.login_throttled', { ...context, at: now(), subject, scope, delayMs })
  }

  return {
    async before (email, context) {
      const key = keys(email, context)
      const at = now()
      const [pair, account] = await Promise.all([store.peek(key.pair, at), store.peek(key.account, at)])
      const { subject } = key
      if (pair.count >= limit.max) {
        throttled(context, subject, 'client', 0)
        if (!dryRun) throw retryLater('FST_LCAUTH_RATE_LIMITED', pair.resetAt.getTime() - at.getTime())
      }
      if (account.count >= limit.max) {
        // Grows with the failures beyond the threshold: 100 ms, 200 ms, ... up to the cap.
        const delayMs = Math.min(MAX_ACCOUNT_DELAY, 100 * (account.count - limit.max + 1))
        throttled(context, subject, 'account', delayMs)
        if (!dryRun) await wait(delayMs)
      }
    },
    async failed (email, context) {
      const key = keys(email, context)
      const at = now()
      await Promise.all([store.hit(key.pair, limit.windowMs, at), store.hit(key.account, limit.windowMs, at)])
    }
  }
}
