import type { Clock } from '../clock.ts'
import type { BanStore } from '../ports/ban-store.ts'
import type { Storage } from '../ports/storage.ts'

interface Log { info(obj: object, msg: string): void, warn(obj: object, msg: string): void }

/** What one purge deleted. */
export interface PurgeCounts { sessions: number, tokens: number, moderation: number }

export interface Purger {
  /** Purges once, now. */
  run(): Promise<PurgeCounts>
  /** Purges every `intervalMs` (never when 0) until `stop()`. */
  start(): void
  stop(): void
}

/**
 * Deletes ended sessions, spent one-time tokens and expired moderation records. Revoked sessions are
 * kept one access-token lifetime (`keepRevokedMs`) so every instance's revocation mirror sees them first.
 */
export function purger (deps: { storage: Storage, bans: BanStore, now: Clock, intervalMs: number, keepRevokedMs: number, log: Log }): Purger {
  const { storage, now, intervalMs, keepRevokedMs, log } = deps
  let timer: NodeJS.Timeout | null = null
  const run = async (): Promise<PurgeCounts> => {
    const at = now()
    const sessions = await storage.sessions.purge(new Date(at.getTime() - keepRevokedMs))
    const tokens = await storage.oneTimeTokens.purge(at)
    const moderation = await deps.bans.purge(at)
    if (sessions + tokens + moderation > 0) log.info({ event: 'lcauth.purged', sessions, tokens, moderation }, 'purged ended sessions, spent tokens and expired moderation records')
    return { sessions, tokens, moderation }
  }
  return {
    run,
    start () {
      if (intervalMs <= 0 || timer !== null) return
      timer = setInterval(() => { run().catch(err => log.warn({ err, event: 'lcauth.purge_failed' }, 'purge failed')) }, intervalMs)
      timer.unref()
    },
    stop () {
      if (timer !== null) clearInterval(timer)
      timer = null
    }
  }
}
