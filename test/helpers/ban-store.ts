import type { Test } from 'tap'
import type { BanStore } from '../../lib/ports/ban-store.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { banStoreConformance } from '../conformance/ban-store.ts'
import { at, HOUR, MINUTE, parallel, unique, type TestFn } from '../conformance/types.ts'

/**
 * Two ban stores over one database (two storages on one schema or file): a ban, a lift and a hit made
 * through one are seen through the other, and concurrent hits, scores, acquires and releases through
 * both lose nothing. The SQL adapter suites run it with their own pair of stores.
 */
export async function twoStoresShareState (t: Test, bansA: BanStore, bansB: BanStore): Promise<void> {
  const subject = { kind: 'user', id: unique('user') } as const
  const ban = { subject, reason: 'operator', createdAt: at(0), expiresAt: at(HOUR) }
  await bansA.put(ban)
  t.same(await bansB.find(subject, at(MINUTE)), ban, 'a ban put through A is seen by B')
  t.equal(await bansB.lift(subject), true)
  t.equal(await bansA.find(subject, at(MINUTE)), null, 'and lifted through B is gone for A')

  const key = unique('login')
  t.same(await bansA.hit(key, MINUTE, at(0)), { count: 1, resetAt: at(MINUTE) })
  t.same(await bansB.peek(key, at(1)), { count: 1, resetAt: at(MINUTE) }, 'a hit from A is seen by B')

  const via = (i: number): BanStore => (i % 2 === 0 ? bansA : bansB)
  const counts = await parallel(40, i => via(i).hit(key, MINUTE, at(1)).then(w => w.count))
  t.same(counts.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 2), 'hits')
  const totals = await parallel(40, i => via(i).addViolation(subject, 'login', 2, MINUTE, at(1)))
  t.same(totals.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => (i + 1) * 2), 'violation scores')
  const inFlight = await parallel(40, i => via(i).acquire(key, MINUTE, at(1)))
  t.same(inFlight.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1), 'acquires')
  await parallel(40, i => via(i).release(key, at(2)))
  t.equal(await bansA.acquire(key, MINUTE, at(3)), 1, 'releases')
}

/**
 * The BanStore conformance suite on the ban store of a SQL storage: each case gets a fresh storage
 * from `fresh`, and closing its ban store (a no-op for SQL) closes that storage too.
 */
export function sqlBanStoreConformance (test: TestFn, fresh: () => Promise<Storage>): void {
  banStoreConformance((name, fn) => test(`ban store: ${name}`, fn), async () => {
    const storage = await fresh()
    const bans = bansOf(storage)
    return { ...bans, close: async () => { await bans.close(); await storage.close() } }
  })
}

/** A storage's ban store; every SQL storage has one. */
export function bansOf (storage: Storage): BanStore {
  if (storage.banStore === undefined) throw new Error(`the ${storage.kind} storage offers no ban store`)
  return storage.banStore()
}
