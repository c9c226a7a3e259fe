import assert from 'node:assert/strict'
import type { Ban, BanStore, BanSubject } from '../../lib/ports/ban-store.ts'
import { at, DAY, HOUR, MINUTE, parallel, SECOND, unique, type TestFn } from './types.ts'

const ip = (): BanSubject => ({ kind: 'ip', id: `${unique('198.51.100')}` })
const userSubject = (): BanSubject => ({ kind: 'user', id: unique('user') })

/** A ban of `subject` created at `T0` that ends an hour later. */
function ban (subject: BanSubject, overrides: Partial<Ban> = {}): Ban {
  return { subject, reason: 'login_violation', createdAt: at(0), expiresAt: at(HOUR), ...overrides }
}

const byId = (a: Ban, b: Ban): number => `${a.subject.kind}:${a.subject.id}`.localeCompare(`${b.subject.kind}:${b.subject.id}`)

/**
 * The contract of the BanStore port (lib/ports/ban-store.ts), as cases any runner can register.
 * `make` must return a new, empty store each time; every case closes what it made. Times are
 * explicit Dates: expiry is decided by the `now` passed in, never by waiting.
 */
export function banStoreConformance (test: TestFn, make: () => Promise<BanStore>): void {
  const run = (name: string, body: (store: BanStore) => Promise<void>): void => {
    test(name, async () => {
      const store = await make()
      try {
        await body(store)
      } finally {
        await store.close()
      }
    })
  }

  // ---- bans ----------------------------------------------------------------------------------

  run('find returns null (not undefined) for a subject never banned', async store => {
    assert.equal(await store.find(ip(), at(0)), null)
    assert.deepEqual(await store.list(at(0)), [])
  })

  run('find returns the ban while it lasts: before expiresAt, not at it or after', async store => {
    const subject = ip()
    const input = ban(subject)
    await store.put(input)
    assert.deepEqual(await store.find(subject, at(0)), input)
    assert.deepEqual(await store.find({ ...subject }, at(HOUR - 1)), input)
    assert.equal(await store.find(subject, at(HOUR)), null)
    assert.equal(await store.find(subject, at(DAY)), null)
  })

  run('an expired ban stays gone; a new put bans the subject again', async store => {
    const subject = userSubject()
    await store.put(ban(subject))
    assert.equal(await store.find(subject, at(2 * HOUR)), null)
    assert.deepEqual(await store.list(at(2 * HOUR)), [])
    const again = ban(subject, { createdAt: at(2 * HOUR), expiresAt: at(3 * HOUR), reason: 'again' })
    await store.put(again)
    assert.deepEqual(await store.find(subject, at(2 * HOUR)), again)
  })

  run('put replaces the subject\'s ban, shorter or longer', async store => {
    const subject = ip()
    await store.put(ban(subject))
    const longer = ban(subject, { reason: 'escalated', createdAt: at(MINUTE), expiresAt: at(DAY) })
    await store.put(longer)
    assert.deepEqual(await store.find(subject, at(2 * HOUR)), longer)
    assert.deepEqual(await store.list(at(2 * MINUTE)), [longer])
    const shorter = ban(subject, { reason: 'reduced', createdAt: at(2 * MINUTE), expiresAt: at(10 * MINUTE) })
    await store.put(shorter)
    assert.deepEqual(await store.find(subject, at(5 * MINUTE)), shorter)
    assert.equal(await store.find(subject, at(HOUR)), null)
  })

  run('subjects are independent, and an ip and a user with the same id are different subjects', async store => {
    const id = unique('shared')
    const asIp = ban({ kind: 'ip', id })
    await store.put(asIp)
    assert.equal(await store.find({ kind: 'user', id }, at(0)), null)
    assert.equal(await store.find(ip(), at(0)), null)
    const asUser = ban({ kind: 'user', id }, { reason: 'other' })
    await store.put(asUser)
    assert.deepEqual(await store.find({ kind: 'ip', id }, at(0)), asIp)
    assert.deepEqual(await store.find({ kind: 'user', id }, at(0)), asUser)
    assert.equal(await store.lift({ kind: 'user', id }), true)
    assert.deepEqual(await store.find({ kind: 'ip', id }, at(0)), asIp)
  })

  run('lift removes the ban and returns true, then false; false for a subject never banned', async store => {
    const [subject, other] = [ip(), ip()]
    await store.put(ban(subject))
    await store.put(ban(other))
    assert.equal(await store.lift(subject), true)
    assert.equal(await store.find(subject, at(0)), null)
    assert.equal(await store.lift(subject), false)
    assert.equal(await store.lift(userSubject()), false)
    assert.deepEqual(await store.find(other, at(0)), ban(other))
    assert.deepEqual(await store.list(at(0)), [ban(other)])
  })

  run('list returns the bans live at `now`, each once', async store => {
    const short = ban(ip(), { expiresAt: at(10 * MINUTE) })
    const long = ban(userSubject(), { expiresAt: at(DAY) })
    const third = ban(ip(), { expiresAt: at(HOUR), reason: 'registration_violation' })
    for (const b of [short, long, third]) await store.put(b)
    assert.deepEqual((await store.list(at(0))).sort(byId), [short, long, third].sort(byId))
    assert.deepEqual((await store.list(at(10 * MINUTE))).sort(byId), [long, third].sort(byId))
    assert.deepEqual(await store.list(at(HOUR)), [long])
    assert.deepEqual(await store.list(at(DAY)), [])
  })

  run('bans are copied in and out: mutating the input or a result changes nothing stored', async store => {
    const subject = ip()
    const input = ban({ ...subject })
    const snapshot = structuredClone(input)
    await store.put(input)
    input.reason = 'mutated'
    input.expiresAt.setTime(at(DAY).getTime())
    input.subject.id = 'someone-else'
    const found = await store.find(subject, at(0))
    assert.deepEqual(found, snapshot)
    assert.ok(found)
    found.expiresAt.setTime(at(DAY).getTime())
    found.subject.kind = 'user'
    const [listed] = await store.list(at(0))
    assert.deepEqual(listed, snapshot)
    listed?.createdAt.setTime(0)
    assert.deepEqual(await store.list(at(0)), [snapshot])
    assert.equal(await store.find(subject, at(2 * HOUR)), null)
  })

  // ---- violation scores ----------------------------------------------------------------------

  run('addViolation accumulates per (subject, type) and returns the new total', async store => {
    const subject = ip()
    const ttl = 10 * MINUTE
    assert.equal(await store.addViolation(subject, 'login', 1, ttl, at(0)), 1)
    assert.equal(await store.addViolation(subject, 'login', 1, ttl, at(SECOND)), 2)
    assert.equal(await store.addViolation(subject, 'login', 5, ttl, at(2 * SECOND)), 7)
    assert.equal(await store.addViolation(subject, 'registration', 20, ttl, at(3 * SECOND)), 20)
    assert.equal(await store.addViolation(subject, 'login', 1, ttl, at(4 * SECOND)), 8)
    assert.equal(await store.addViolation(ip(), 'login', 1, ttl, at(5 * SECOND)), 1)
    assert.equal(await store.addViolation({ kind: 'user', id: subject.id }, 'login', 1, ttl, at(6 * SECOND)), 1)
    assert.equal(await store.addViolation(subject, 'registration', 20, ttl, at(7 * SECOND)), 40)
  })

  run('addViolation keeps (subject, type) pairs apart even when ids and types contain ":"', async store => {
    const ttl = 10 * MINUTE
    assert.equal(await store.addViolation({ kind: 'ip', id: '2001:db8::' }, 'a:b', 1, ttl, at(0)), 1)
    assert.equal(await store.addViolation({ kind: 'ip', id: '2001:db8::a' }, 'b', 1, ttl, at(0)), 1)
    assert.equal(await store.addViolation({ kind: 'ip', id: '2001:db8:' }, ':a:b', 1, ttl, at(0)), 1)
  })

  run('addViolation: a score expires ttlMs after its last increment, then counting starts over', async store => {
    const subject = userSubject()
    const ttl = 1000
    assert.equal(await store.addViolation(subject, 'login', 3, ttl, at(0)), 3)
    assert.equal(await store.addViolation(subject, 'login', 3, ttl, at(999)), 6, 'still counted just before expiry')
    assert.equal(await store.addViolation(subject, 'login', 3, ttl, at(1998)), 9, 'each increment restarts the ttl')
    assert.equal(await store.addViolation(subject, 'login', 3, ttl, at(2998)), 3, 'expired exactly ttlMs after the last increment')
    assert.equal(await store.addViolation(subject, 'login', 3, ttl, at(HOUR)), 3, 'long expired')
    assert.equal(await store.addViolation(subject, 'login', 3, 10 * MINUTE, at(HOUR + 1)), 6)
    assert.equal(await store.addViolation(subject, 'login', 3, 10 * MINUTE, at(HOUR + 9 * MINUTE)), 9, 'the latest ttl applies')
  })

  run('addViolation: 50 concurrent increments are all counted', async store => {
    const subject = ip()
    const totals = await parallel(50, () => store.addViolation(subject, 'message_limit', 3, 10 * MINUTE, at(0)))
    assert.deepEqual([...totals].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => (i + 1) * 3))
    assert.equal(await store.addViolation(subject, 'message_limit', 0, 10 * MINUTE, at(SECOND)), 150)
  })

  // ---- limiter counters ----------------------------------------------------------------------

  run('kind names the backend', async store => {
    assert.equal(typeof store.kind, 'string')
    assert.ok(store.kind.length > 0)
  })

  run('hit counts within a fixed window that opens at the first hit; a new window starts after it ends', async store => {
    const key = unique('login:198.51.100.7')
    assert.deepEqual(await store.hit(key, MINUTE, at(0)), { count: 1, resetAt: at(MINUTE) })
    assert.deepEqual(await store.hit(key, MINUTE, at(10 * SECOND)), { count: 2, resetAt: at(MINUTE) }, 'a later hit does not move the end')
    assert.deepEqual(await store.hit(key, MINUTE, at(MINUTE - 1)), { count: 3, resetAt: at(MINUTE) })
    assert.deepEqual(await store.hit(key, MINUTE, at(MINUTE)), { count: 1, resetAt: at(2 * MINUTE) }, 'the window ended exactly at resetAt')
    assert.deepEqual(await store.hit(key, 5 * MINUTE, at(DAY)), { count: 1, resetAt: at(DAY + 5 * MINUTE) })
  })

  run('hit keeps keys apart, ":" and all', async store => {
    const base = unique('k')
    assert.equal((await store.hit(`${base}:a:b`, MINUTE, at(0))).count, 1)
    assert.equal((await store.hit(`${base}:a`, MINUTE, at(0))).count, 1)
    assert.equal((await store.hit(`${base}:a:b`, MINUTE, at(0))).count, 2)
    assert.equal((await store.peek(`${base}:a:`, at(0))).count, 0)
  })

  run('hit: 50 concurrent hits on one key see the counts 1..50', async store => {
    const key = unique('burst')
    const results = await parallel(50, () => store.hit(key, MINUTE, at(0)))
    assert.deepEqual(results.map(r => r.count).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
    for (const result of results) assert.deepEqual(result.resetAt, at(MINUTE))
  })

  run('hit adds `amount` at once; concurrent callers own disjoint ranges of counts', async store => {
    const key = unique('lease')
    assert.deepEqual(await store.hit(key, MINUTE, at(0), 5), { count: 5, resetAt: at(MINUTE) })
    assert.deepEqual(await store.hit(key, MINUTE, at(SECOND)), { count: 6, resetAt: at(MINUTE) })
    const ranges = await parallel(10, () => store.hit(key, MINUTE, at(2 * SECOND), 4))
    const owned = ranges.flatMap(r => [r.count - 3, r.count - 2, r.count - 1, r.count])
    assert.deepEqual(owned.sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 7), 'every count from 7 to 46 owned exactly once')
    assert.deepEqual(await store.hit(key, MINUTE, at(MINUTE), 3), { count: 3, resetAt: at(2 * MINUTE) }, 'a new window starts at amount')
  })

  run('peek reads the live window without counting; an ended or unknown window reads 0', async store => {
    const key = unique('peek')
    assert.deepEqual(await store.peek(key, at(0)), { count: 0, resetAt: at(0) })
    await store.hit(key, MINUTE, at(0))
    await store.hit(key, MINUTE, at(SECOND))
    assert.deepEqual(await store.peek(key, at(2 * SECOND)), { count: 2, resetAt: at(MINUTE) })
    assert.deepEqual(await store.peek(key, at(2 * SECOND)), { count: 2, resetAt: at(MINUTE) }, 'peeking does not count')
    assert.deepEqual(await store.peek(key, at(MINUTE)), { count: 0, resetAt: at(MINUTE) })
    assert.deepEqual(await store.hit(key, MINUTE, at(MINUTE)), { count: 1, resetAt: at(2 * MINUTE) })
  })

  // ---- in-flight counters --------------------------------------------------------------------

  run('acquire counts up, release counts down and never below zero', async store => {
    const key = unique('inflight:user')
    assert.equal(await store.acquire(key, MINUTE, at(0)), 1)
    assert.equal(await store.acquire(key, MINUTE, at(SECOND)), 2)
    await store.release(key, at(2 * SECOND))
    assert.equal(await store.acquire(key, MINUTE, at(3 * SECOND)), 2)
    await store.release(key, at(4 * SECOND))
    await store.release(key, at(4 * SECOND))
    await store.release(key, at(4 * SECOND))
    await store.release(unique('never-acquired'), at(4 * SECOND))
    assert.equal(await store.acquire(key, MINUTE, at(5 * SECOND)), 1, 'extra releases did not go below zero')
  })

  run('an in-flight counter expires ttlMs after its latest acquire', async store => {
    const key = unique('inflight:lost')
    assert.equal(await store.acquire(key, MINUTE, at(0)), 1)
    assert.equal(await store.acquire(key, MINUTE, at(50 * SECOND)), 2)
    assert.equal(await store.acquire(key, MINUTE, at(MINUTE + 49 * SECOND)), 3, 'the latest acquire restarted the ttl')
    assert.equal(await store.acquire(key, MINUTE, at(3 * MINUTE)), 1, 'expired: counting starts over')
  })

  run('acquire: 30 concurrent acquires then 30 releases leave zero', async store => {
    const key = unique('inflight:burst')
    const counts = await parallel(30, () => store.acquire(key, MINUTE, at(0)))
    assert.deepEqual([...counts].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1))
    await parallel(30, () => store.release(key, at(SECOND)))
    assert.equal(await store.acquire(key, MINUTE, at(2 * SECOND)), 1)
  })

  // ---- housekeeping --------------------------------------------------------------------------

  run('purge keeps everything live and loses nothing a later call would still see', async store => {
    const subject = ip()
    await store.put(ban(subject, { expiresAt: at(DAY) }))
    const gone = ip()
    await store.put(ban(gone, { expiresAt: at(MINUTE) }))
    const key = unique('purge')
    await store.hit(key, HOUR, at(0))
    await store.addViolation(subject, 'login', 2, HOUR, at(0))
    const removed = await store.purge(at(2 * MINUTE))
    assert.ok(Number.isInteger(removed) && removed >= 0)
    assert.deepEqual(await store.find(subject, at(2 * MINUTE)), ban(subject, { expiresAt: at(DAY) }))
    assert.equal(await store.find(gone, at(2 * MINUTE)), null)
    assert.deepEqual(await store.peek(key, at(2 * MINUTE)), { count: 1, resetAt: at(HOUR) })
    assert.equal(await store.addViolation(subject, 'login', 1, HOUR, at(3 * MINUTE)), 3)
  })

  run('watch, when offered, hears bans put and lifted through the store, and stops when asked', async store => {
    if (store.watch === undefined) return
    const heard: BanSubject[] = []
    const stop = store.watch(subject => heard.push(subject))
    const subject = userSubject()
    await store.put(ban(subject))
    await store.lift(subject)
    await waitFor(() => heard.length >= 2)
    assert.deepEqual(heard.slice(0, 2), [subject, subject])
    stop()
    await store.put(ban(ip()))
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(heard.length, 2)
  })
}

/** Polls `done` until it holds, for at most two seconds (push channels deliver asynchronously). */
async function waitFor (done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.ok(done(), 'timed out waiting')
}
