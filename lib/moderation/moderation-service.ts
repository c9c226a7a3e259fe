import { isIP } from 'node:net'
import { canonicalEmail } from '../accounts/email.ts'
import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import { errors } from '../errors.ts'
import type { AuthEventEmitter } from '../events.ts'
import type { Ban, BanStore, BanSubject } from '../ports/ban-store.ts'
import type { User } from '../ports/storage.ts'
import { addressKey } from './client-address.ts'
import { banCache } from './ban-cache.ts'
import type { ModerationConfig } from './config.ts'

/** Who a violation is held against: always the client's address, and the user only when a valid access token proved who they are. */
export interface Offender {
  /** The client's address (the service keys it by /64 for IPv6). */
  ip: string
  /** `addressKey(ip)`, when the caller already has it. */
  key?: string
  userId: string | null
}

export interface ModerationService {
  /**
   * The live ban of the client's address or of the user, or null. Always null when banning is off or
   * in dry run. Answered without a promise when the local cache knows both (the hot path).
   */
  banOf(offender: Offender): Ban | null | Promise<Ban | null>
  /** The user's live ban alone (login asks only after the password checked out). */
  userBan(userId: string): Promise<Ban | null>
  /**
   * Adds `score` to the offender's score for `type` (the address's and, when known, the user's). Each
   * score that crosses a multiple of `banInterval` bans its subject for `banDuration`; a user ban also
   * ends the user's sessions everywhere. A soft ban (duration 0) only ends the sessions.
   */
  logViolation(offender: Offender, type: string, score: number, context: RequestContext): Promise<void>
  /**
   * Operator: bans the user with this email for `durationMs` (default `banDuration`) and ends their
   * sessions. Null for a soft ban (duration 0). Throws FST_LCAUTH_NOT_FOUND when no user has the email.
   */
  banUser(email: string, durationMs: number | undefined, context: RequestContext): Promise<Ban | null>
  /**
   * Operator: lifts the ban of a user (by email) or of an address (its /64 for IPv6). False when there
   * was none or no user has the email; FST_LCAUTH_VALIDATION when `target` is neither.
   */
  lift(target: string, context: RequestContext): Promise<boolean>
  /** Live bans. */
  list(): Promise<Ban[]>
  /** The key an address is counted under: IPv6 by its /64, IPv4-mapped folded. */
  keyOf(ip: string): string
  stop(): void
}

/** The longest ban an operator can set: a year, as for BAN_DURATION. */
const MAX_BAN_MS = 365 * 86_400_000

export function moderationService (deps: {
  store: BanStore
  config: ModerationConfig
  events: AuthEventEmitter
  now: Clock
  findUserByEmail: (email: string) => Promise<User | null>
  endSessions: (userId: string, context: RequestContext) => Promise<void>
}): ModerationService {
  const { store, config, events, now } = deps
  const cache = banCache(store, config.banCacheTtl)
  const enforcing = config.banViolations && !config.dryRun

  /** Of two bans, the one that ends later: what the client must wait for. */
  const longer = (a: Ban | null, b: Ban | null): Ban | null => {
    if (a === null || b === null) return a ?? b
    return b.expiresAt > a.expiresAt ? b : a
  }

  const subjectsOf = (offender: Offender): BanSubject[] => {
    const subjects: BanSubject[] = [{ kind: 'ip', id: offender.key ?? addressKey(offender.ip) }]
    if (offender.userId !== null) subjects.push({ kind: 'user', id: offender.userId })
    return subjects
  }

  /** Records a ban (unless soft), ends a banned user's sessions, and tells everyone. */
  async function ban (subject: BanSubject, reason: string, durationMs: number, by: 'moderation' | 'operator', context: RequestContext): Promise<Ban | null> {
    const at = now()
    const record = durationMs > 0 ? { subject, reason, createdAt: at, expiresAt: new Date(at.getTime() + durationMs) } : null
    const dryRun = by === 'moderation' && config.dryRun
    if (!dryRun) {
      if (record !== null) {
        await store.put(record)
        cache.forget(subject)
      }
      if (subject.kind === 'user') await deps.endSessions(subject.id, context)
    }
    events.emit('ban.created', { ...context, at, subject, reason, expiresAt: record?.expiresAt ?? null, by, dryRun })
    return record
  }

  return {
    banOf (offender) {
      if (!enforcing) return null
      const at = now()
      const ip: BanSubject = { kind: 'ip', id: offender.key ?? addressKey(offender.ip) }
      const user: BanSubject | null = offender.userId === null ? null : { kind: 'user', id: offender.userId }
      const ipBan = cache.peek(ip, at)
      const userBan = user === null ? null : cache.peek(user, at)
      if (ipBan !== undefined && userBan !== undefined) return longer(ipBan, userBan)
      return Promise.all([ipBan ?? cache.find(ip, at), userBan ?? (user === null ? null : cache.find(user, at))]).then(([a, b]) => longer(a, b))
    },

    async userBan (userId) {
      return enforcing ? await cache.find({ kind: 'user', id: userId }, now()) : null
    },

    async logViolation (offender, type, score, context) {
      for (const subject of subjectsOf(offender)) {
        const total = await store.addViolation(subject, type, score, config.violationTtl, now())
        events.emit('moderation.violation', { ...context, at: now(), type, subject, score, total })
        const crossed = Math.floor((total - score) / config.banInterval) < Math.floor(total / config.banInterval)
        if (crossed && config.banViolations) await ban(subject, type, config.banDuration, 'moderation', context)
      }
    },

    async banUser (email, durationMs, context) {
      if (durationMs !== undefined && (!Number.isInteger(durationMs) || durationMs < 0 || durationMs > MAX_BAN_MS)) {
        throw new errors.FST_LCAUTH_VALIDATION('The ban duration must be a whole number of milliseconds from 0 to 365 days.')
      }
      const canonical = canonicalEmail(email)
      const user = canonical === null ? null : await deps.findUserByEmail(canonical)
      if (user === null) throw new errors.FST_LCAUTH_NOT_FOUND()
      return await ban({ kind: 'user', id: user.id }, 'operator', durationMs ?? config.banDuration, 'operator', context)
    },

    async lift (target, context) {
      let subject: BanSubject
      if (target.includes('@')) {
        const canonical = canonicalEmail(target)
        const user = canonical === null ? null : await deps.findUserByEmail(canonical)
        if (user === null) return false
        subject = { kind: 'user', id: user.id }
      } else if (isIP(target) !== 0) {
        subject = { kind: 'ip', id: addressKey(target) }
      } else {
        throw new errors.FST_LCAUTH_VALIDATION('Give an email address or an IP address.')
      }
      // Only a ban still in force counts as lifted; an ended one is merely cleared away.
      const live = await store.find(subject, now())
      const lifted = await store.lift(subject) && live !== null
      cache.forget(subject)
      if (lifted) events.emit('ban.lifted', { ...context, at: now(), subject, by: 'operator' })
      return lifted
    },

    list: () => store.list(now()),
    keyOf: addressKey,
    stop: cache.stop
  }
}
