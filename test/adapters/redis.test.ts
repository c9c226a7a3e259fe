import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { redisBanStore, type RedisBanStoreOptions } from '../../lib/adapters/redis/index.ts'
import type { Ban, BanStore, BanSubject } from '../../lib/ports/ban-store.ts'
import { banStoreConformance } from '../conformance/ban-store.ts'
import { withService } from '../helpers/services.ts'
import { at, HOUR, MINUTE, parallel, unique, type TestFn } from '../conformance/types.ts'

/** Nothing listens there: connections are refused at once. */
const NOWHERE = 'redis://127.0.0.1:1'

withService(t, 'REDIS_URI', 'redis', suite)

function suite (url: string): void {
  const admin = new Redis(url)
  // Every key of this run sits under one random prefix, deleted at the end.
  const runPrefix = `lcauth-test:${randomBytes(6).toString('hex')}:`
  let stores = 0
  const newPrefix = (): string => `${runPrefix}${++stores}:`

  async function keysUnder (prefix: string): Promise<string[]> {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
      found.push(...batch)
      cursor = next
    } while (cursor !== '0')
    return found
  }

  t.teardown(async () => {
    const keys = await keysUnder(runPrefix)
    if (keys.length > 0) await admin.del(...keys)
    await admin.quit()
  })

  async function fresh (options: Partial<RedisBanStoreOptions> = {}): Promise<BanStore> {
    const store = redisBanStore({ url, keyPrefix: newPrefix(), ...options })
    await store.init?.()
    return store
  }

  /** Keys under `prefix` that Redis would keep forever. */
  async function keysWithoutTtl (prefix: string): Promise<{ scanned: number, forever: string[] }> {
    const keys = await keysUnder(prefix)
    const ttls = await Promise.all(keys.map(key => admin.pttl(key)))
    return { scanned: keys.length, forever: keys.filter((_, i) => ttls[i] === -1) }
  }

  const ban = (subject: BanSubject, createdAt: Date, expiresAt: Date, reason = 'login_violation'): Ban =>
    ({ subject, reason, createdAt, expiresAt })
  const ip = (): BanSubject => ({ kind: 'ip', id: unique('2001:db8::') })

  const test: TestFn = (name, fn) => t.test(name, async () => { await fn() })
  banStoreConformance(test, () => fresh())

  t.test('the suite runs on the ioredis version pinned for development, inside the range users may install', async t => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string>, peerDependencies: Record<string, string> }
    const pinned = pkg.devDependencies.ioredis as string
    const loaded = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('ioredis/package.json'), 'utf8')) as { version: string }).version
    t.match(pinned, /^\d+\.\d+\.\d+$/, 'an exact version, not a range')
    t.equal(loaded, pinned)
    // The peer range is a caret range: same major, at least its minimum.
    const [major, minor, patch] = (/^\^(\d+)\.(\d+)\.(\d+)$/.exec(pkg.peerDependencies.ioredis ?? '') ?? []).slice(1).map(Number)
    const [lMajor, lMinor, lPatch] = loaded.split('.').map(Number)
    t.ok(major !== undefined && lMajor === major && ((lMinor as number) > (minor as number) || (lMinor === minor && (lPatch as number) >= (patch as number))), `${loaded} satisfies the peer range ${pkg.peerDependencies.ioredis}`)
  })

  t.test('after the conformance run, every key carries a TTL', async t => {
    const { scanned, forever } = await keysWithoutTtl(runPrefix)
    t.ok(scanned > 0, `${scanned} keys checked`)
    t.same(forever, [])
  })

  t.test('a ban key lives until the ban ends in real time, and the index at least as long', async t => {
    const prefix = newPrefix()
    const store = await fresh({ keyPrefix: prefix })
    t.teardown(() => store.close())
    const now = new Date()
    const subject = ip()
    await store.put(ban(subject, now, new Date(now.getTime() + HOUR)))
    const banTtl = await admin.pttl(`${prefix}ban:${JSON.stringify(subject)}`)
    t.ok(Math.abs(banTtl - HOUR) < 2000, `PTTL ${banTtl} is an hour within 2 s`)
    t.ok(await admin.pttl(`${prefix}ban-index`) >= banTtl - 1000, 'the index lives as long (read a moment later)')
    await store.addViolation(subject, 'login', 1, MINUTE, now)
    await store.hit('k', 30_000, now)
    await store.acquire('k', 10_000, now)
    t.same((await keysWithoutTtl(prefix)).forever, [])
  })

  t.test('two stores on one prefix share bans, scores and counters, and B hears what A puts', async t => {
    const prefix = newPrefix()
    const [a, b] = await Promise.all([fresh({ keyPrefix: prefix }), fresh({ keyPrefix: prefix })])
    t.teardown(async () => { await a.close(); await b.close() })
    const heard: BanSubject[] = []
    b.watch?.(subject => heard.push(subject))
    const subject = ip()
    const put = ban(subject, at(0), at(HOUR))
    await b.put(ban(ip(), at(0), at(HOUR))) // waits for B's subscription, so A's put below is heard
    await a.put(put)
    t.same(await b.find(subject, at(0)), put)
    t.equal(await a.addViolation(subject, 'login', 2, MINUTE, at(0)), 2)
    t.equal(await b.addViolation(subject, 'login', 3, MINUTE, at(0)), 5)
    t.equal((await a.hit('shared', MINUTE, at(0))).count, 1)
    t.same(await b.hit('shared', MINUTE, at(0)), { count: 2, resetAt: at(MINUTE) })
    t.equal(await a.acquire('inflight', MINUTE, at(0)), 1)
    t.equal(await b.acquire('inflight', MINUTE, at(0)), 2)
    t.equal(await b.lift(subject), true)
    t.equal(await a.find(subject, at(0)), null)
    for (let i = 0; i < 100 && heard.length < 3; i++) await sleep(10)
    t.same(heard.slice(1), [subject, subject], 'A\'s put and B\'s lift')
  })

  t.test('3 stores × 50 concurrent hits on one key see the counts 1..150', async t => {
    const prefix = newPrefix()
    const all = await Promise.all([1, 2, 3].map(() => fresh({ keyPrefix: prefix })))
    t.teardown(() => Promise.all(all.map(store => store.close())))
    const started = Date.now()
    const results = await parallel(150, i => all[i % 3]!.hit('burst', MINUTE, at(0)))
    t.comment(`150 hits in ${Date.now() - started} ms`)
    t.same(results.map(r => r.count).sort((x, y) => x - y), Array.from({ length: 150 }, (_, i) => i + 1))
    t.same((await all[0]!.peek('burst', at(1))), { count: 150, resetAt: at(MINUTE) })
  })

  t.test('a Redis that is not there: commands reject at once, init rejects in time, close returns promptly', async t => {
    const store = redisBanStore({ url: NOWHERE, connectTimeoutMs: 300 })
    t.equal(store.kind, 'redis')
    let started = Date.now()
    await t.rejects(store.find(ip(), at(0)))
    await t.rejects(store.hit('k', MINUTE, at(0)))
    const commands = Date.now() - started
    t.ok(commands < 200, `find and hit rejected in ${commands} ms`)
    started = Date.now()
    await t.rejects(store.init?.() ?? Promise.resolve(), { message: /not ready within 300 ms/ })
    const init = Date.now() - started
    t.ok(init >= 290 && init < 1000, `init rejected after ${init} ms`)
    // A watch started while Redis is down: put waits for the subscription only up to the command timeout.
    store.watch?.(() => {})
    started = Date.now()
    await t.rejects(store.put(ban(ip(), at(0), at(HOUR))))
    const put = Date.now() - started
    t.ok(put < 1000, `put rejected in ${put} ms`)
    started = Date.now()
    await store.close()
    const close = Date.now() - started
    t.ok(close < 200, `close returned in ${close} ms`)
    t.comment(`unreachable: find+hit ${commands} ms, init ${init} ms, put after watch ${put} ms, close ${close} ms`)
  })

  t.test('a passed-in client is the caller\'s: close() leaves it open; scripts are defined once per client', async t => {
    const client = new Redis(url)
    t.teardown(() => client.quit())
    const prefix = newPrefix()
    const [a, b] = [redisBanStore({ client, keyPrefix: prefix }), redisBanStore({ client, keyPrefix: prefix })]
    await a.init?.()
    await a.init?.()
    const subject = ip()
    await a.put(ban(subject, at(0), at(HOUR)))
    t.ok(await b.find(subject, at(0)))
    a.watch?.(() => {})
    await a.close()
    await b.close()
    t.equal(client.status, 'ready')
    t.equal(await client.ping(), 'PONG')
  })

  t.test('init: a lazy client is connected; one that gave up or gives up rejects at once; a closed store rejects', async t => {
    const lazy = new Redis(url, { lazyConnect: true })
    t.teardown(() => lazy.quit())
    await redisBanStore({ client: lazy, keyPrefix: newPrefix() }).init?.()
    t.equal(lazy.status, 'ready')

    const givesUp = new Redis(NOWHERE, { lazyConnect: true, retryStrategy: () => null })
    givesUp.on('error', () => {})
    const started = Date.now()
    await t.rejects(redisBanStore({ client: givesUp }).init?.() ?? Promise.resolve(), { message: /stopped reconnecting/, cause: { code: 'ECONNREFUSED' } })
    t.ok(Date.now() - started < 1000)

    const ended = new Redis(url, { lazyConnect: true })
    ended.disconnect()
    await t.rejects(redisBanStore({ client: ended }).init?.() ?? Promise.resolve(), { message: /client is closed/ })

    const store = await fresh()
    await store.close()
    await store.close()
    await t.rejects(store.init?.() ?? Promise.resolve(), { message: /store is closed/ })
  })

  t.test('options: url or client, exactly one', async t => {
    t.throws(() => redisBanStore({}), TypeError)
    const client = new Redis(url, { lazyConnect: true })
    t.throws(() => redisBanStore({ url, client }), TypeError)
  })

  t.test('watch ignores malformed messages, survives a throwing listener, and does nothing once closed', async t => {
    const prefix = newPrefix()
    const store = await fresh({ keyPrefix: prefix })
    const heard: BanSubject[] = []
    store.watch?.(() => { throw new Error('listener bug') })
    store.watch?.(subject => heard.push(subject))
    const subject = ip()
    await store.put(ban(ip(), at(0), at(HOUR))) // the subscription is confirmed from here on
    for (let i = 0; i < 100 && heard.length < 1; i++) await sleep(10)
    heard.length = 0
    for (const message of ['not json', '42', 'null', '{"kind":"org","id":"x"}', '{"kind":"ip","id":7}']) {
      await admin.publish(`${prefix}bans`, message)
    }
    await store.put(ban(subject, at(0), at(HOUR)))
    for (let i = 0; i < 100 && heard.length < 1; i++) await sleep(10)
    await sleep(50)
    t.same(heard, [subject])
    await store.close()
    const stop = store.watch?.(() => {})
    stop?.()
  })

  t.test('stored values that are not bans are ignored; list forgets bans Redis expired', async t => {
    const prefix = newPrefix()
    const store = await fresh({ keyPrefix: prefix })
    t.teardown(() => store.close())
    const [kept, garbled, expired] = [ip(), ip(), ip()]
    for (const subject of [kept, garbled, expired]) await store.put(ban(subject, at(0), at(HOUR)))
    const keyOf = (subject: BanSubject): string => `${prefix}ban:${JSON.stringify(subject)}`
    for (const value of ['garbage', '{"kind":"ip","id":"x","reason":"r","createdAt":"soon","expiresAt":1}', '{"kind":"bot"}']) {
      await admin.set(keyOf(garbled), value, 'PX', MINUTE)
      t.equal(await store.find(garbled, at(0)), null, value)
    }
    await admin.del(keyOf(expired)) // as Redis does when the TTL runs out
    t.same(await store.list(at(0)), [ban(kept, at(0), at(HOUR))])
    t.same(await admin.zrange(`${prefix}ban-index`, 0, -1), [kept, garbled].map(s => JSON.stringify(s)).sort())
  })

  t.test('release of a counter that ended at `now` changes nothing; scores keep fractions', async t => {
    const store = await fresh()
    t.teardown(() => store.close())
    t.equal(await store.acquire('k', MINUTE, at(0)), 1)
    await store.release('k', at(MINUTE))
    t.equal(await store.acquire('k', MINUTE, at(0)), 2)
    t.equal(await store.addViolation(ip(), 'login', 0.5, MINUTE, at(0)), 0.5)
  })

  t.test('at the end, no key under the run prefix lacks a TTL', async t => {
    t.same((await keysWithoutTtl(runPrefix)).forever, [])
  })
}
