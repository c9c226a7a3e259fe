import type { Clock } from '../clock.ts'
import type { BanStore } from '../ports/ban-store.ts'
import type { Storage } from '../ports/storage.ts'

interface Log { info(obj: object, msg: string): void, warn(obj: object, msg: string): void }

/**
 * Deletes ended sessions and spent one-time tokens now and then. Revoked sessions are kept one
 * access-token lifetime (`keepRevokedMs`) so every instance's revocation mirror sees them first.
 */
export function purgeSchedule (deps: { storage: Storage, bans: BanStore, now: Clock, intervalMs: number, keepRevokedMs: number, log: Log }): { run: () => Promise<void>, stop: () => void } {
  const { storage, now, intervalMs, keepRevokedMs, log } = deps
  const run = async (): Promise<void> => {
    const at = now()
    const sessions = await storage.sessions.purge(new Date(at.getTime() - keepRevokedMs))
    const tokens = await storage.oneTimeTokens.purge(at)
    const moderation = await deps.bans.purge(at)
    if (sessions + tokens + moderation > 0) log.info({ event: 'lcauth.purged', sessions, tokens, moderation }, 'purged ended sessions, spent tokens and expired moderation records')
  }
  const timer = intervalMs > 0 ? setInterval(() => { run().catch(err => log.warn({ err, event: 'lcauth.purge_failed' }, 'purge failed')) }, intervalMs) : null
  timer?.unref()
  return { run, stop: () => { if (timer !== null) clearInterval(timer) } }
}
