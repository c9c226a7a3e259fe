import t from 'tap'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import type { SessionStore } from '../../lib/ports/storage.ts'
import { revocationMirror } from '../../lib/sessions/revocation-mirror.ts'

const MINUTE = 60_000

async function withSessions (count: number): Promise<{ sessions: SessionStore, ids: string[] }> {
  const storage = memoryStorage()
  const user = await storage.users.create({ email: 'a@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: true, passwordHash: null }, new Date(0))
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const s = await storage.sessions.create({ id: `s${i}`, userId: user?.id as string, refreshTokenHash: `h${i}`, createdAt: new Date(0), expiresAt: new Date(1e13), absoluteExpiresAt: new Date(1e13), userAgent: null, ip: null })
    ids.push(s.id)
  }
  return { sessions: storage.sessions, ids }
}

t.test('loads recent revocations at start, then learns new ones by polling', async t => {
  const { sessions, ids } = await withSessions(3)
  let now = 100 * MINUTE
  await sessions.revoke('s0', new Date(now - 30 * MINUTE)) // older than one access-token lifetime: irrelevant
  await sessions.revoke('s1', new Date(now - 5 * MINUTE))
  const mirror = revocationMirror({ sessions, now: () => new Date(now), retentionMs: 15 * MINUTE, pollIntervalMs: 1000, onPollError: () => {} })
  t.teardown(mirror.stop)
  await mirror.start()
  t.same(ids.map(mirror.isRevoked), [false, true, false])
  now += 1000
  await sessions.revoke('s2', new Date(now))
  await mirror.poll()
  t.equal(mirror.isRevoked('s2'), true)
})

t.test('keeps an id for one access-token lifetime, then forgets it', async t => {
  const { sessions } = await withSessions(2)
  let now = 0
  const mirror = revocationMirror({ sessions, now: () => new Date(now), retentionMs: 15 * MINUTE, pollIntervalMs: 1000, onPollError: () => {} })
  mirror.add(['s0'], new Date(0))
  mirror.add(['s1'], new Date(10 * MINUTE))
  mirror.add(['s0'], new Date(12 * MINUTE)) // already known: keeps the first time
  now = 15 * MINUTE
  await mirror.poll()
  t.equal(mirror.isRevoked('s0'), false)
  t.equal(mirror.isRevoked('s1'), true)
  now = 25 * MINUTE
  await mirror.poll()
  t.equal(mirror.isRevoked('s1'), false)
})

t.test('a revocation stamped well before the last poll is still seen: the revoker\'s clock lags this one', async t => {
  const { sessions } = await withSessions(2)
  let now = 100 * MINUTE
  const mirror = revocationMirror({ sessions, now: () => new Date(now), retentionMs: 15 * MINUTE, pollIntervalMs: 1000, onPollError: () => {} })
  await mirror.poll()
  now += 1000
  await mirror.poll()
  await sessions.revoke('s0', new Date(now - 6000)) // the CLI on a laptop 6 s behind
  await sessions.revoke('s1', new Date(now - 10 * MINUTE)) // an instance 10 minutes behind
  now += 1000
  await mirror.poll()
  t.equal(mirror.isRevoked('s0'), true)
  t.equal(mirror.isRevoked('s1'), true)
  // Kept one lifetime from when this instance learned of it, not from the lagging stamp.
  now += 14 * MINUTE
  await mirror.poll()
  t.equal(mirror.isRevoked('s1'), true)
  now += MINUTE
  await mirror.poll()
  t.equal(mirror.isRevoked('s1'), false)
})

t.test('one poll at a time, and a failing store is reported, not thrown into the timer', async t => {
  let calls = 0
  let fail = true
  let release: () => void = () => {}
  const sessions = {
    async listRevokedSince () {
      calls++
      if (fail) throw new Error('store down')
      await new Promise<void>(resolve => { release = resolve })
      return { revocations: [{ id: 'x', revokedAt: new Date(0) }], cursor: 'c' }
    }
  } as unknown as SessionStore
  const errors: unknown[] = []
  const mirror = revocationMirror({ sessions, now: () => new Date(0), retentionMs: 15 * MINUTE, pollIntervalMs: 20, onPollError: e => errors.push(e) })
  await t.rejects(mirror.start(), /store down/)
  fail = false
  const first = mirror.poll()
  const second = mirror.poll()
  t.equal(first, second, 'the same poll is shared')
  release()
  await first
  t.equal(mirror.isRevoked('x'), true)
  t.equal(calls, 2)

  // Started for real: the timer polls on its own and reports failures.
  fail = true
  const timed = revocationMirror({ sessions, now: () => new Date(0), retentionMs: 15 * MINUTE, pollIntervalMs: 20, onPollError: e => errors.push(e) })
  fail = false
  const started = timed.start()
  release()
  await started
  fail = true
  await new Promise(resolve => setTimeout(resolve, 100))
  timed.stop()
  timed.stop()
  t.ok(errors.length >= 1)
  t.match(errors[0], { message: 'store down' })
})
