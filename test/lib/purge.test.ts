import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import t from 'tap'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { purger } from '../../lib/sessions/purge.ts'
import type { Storage } from '../../lib/ports/storage.ts'

function log () {
  const lines: Array<[string, object, string]> = []
  return { lines, info: (o: object, m: string) => { lines.push(['info', o, m]) }, warn: (o: object, m: string) => { lines.push(['warn', o, m]) } }
}

t.test('purges ended sessions after one access-token lifetime, and spent tokens', async t => {
  const storage = memoryStorage()
  const now = new Date('2030-01-01T00:00:00Z')
  const base = { userId: 'u', refreshTokenHash: 'h', createdAt: new Date(0), userAgent: null, ip: null }
  await storage.sessions.create({ ...base, id: 'ended-long-ago', expiresAt: new Date(now.getTime() - 3_600_000), absoluteExpiresAt: new Date(now.getTime() + 1e9) })
  await storage.sessions.create({ ...base, id: 'just-revoked', expiresAt: new Date(now.getTime() + 1e9), absoluteExpiresAt: new Date(now.getTime() + 1e9) })
  await storage.sessions.revoke('just-revoked', new Date(now.getTime() - 60_000))
  await storage.oneTimeTokens.create({ purpose: 'password_reset', tokenHash: 't', userId: 'u', email: 'a@example.test', createdAt: new Date(0), expiresAt: new Date(0) })
  const logger = log()
  const schedule = purger({ storage, bans: memoryBanStore(), now: () => now, intervalMs: 0, keepRevokedMs: 15 * 60_000, log: logger })
  schedule.start()
  t.same(await schedule.run(), { sessions: 1, tokens: 1, moderation: 0 })
  t.equal(await storage.sessions.findById('ended-long-ago'), null)
  t.ok(await storage.sessions.findById('just-revoked'), 'kept for the revocation mirrors')
  t.match(logger.lines, [['info', { event: 'lcauth.purged', sessions: 1, tokens: 1 }]])
  await schedule.run()
  t.equal(logger.lines.length, 1, 'nothing to purge: nothing logged')
  schedule.stop()
})

t.test('runs on its own and reports failures as warnings', async t => {
  const storage = memoryStorage()
  const broken: Storage = { ...storage, sessions: { ...storage.sessions, purge: async () => { throw new Error('disk on fire') } } }
  const logger = log()
  const schedule = purger({ storage: broken, bans: memoryBanStore(), now: () => new Date(), intervalMs: 10, keepRevokedMs: 1000, log: logger })
  schedule.start()
  schedule.start()
  await new Promise(resolve => setTimeout(resolve, 60))
  schedule.stop()
  t.ok(logger.lines.some(([level, o]) => level === 'warn' && (o as { event: string }).event === 'lcauth.purge_failed'))
})
