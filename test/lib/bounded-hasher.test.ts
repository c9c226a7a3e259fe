import t from 'tap'
import { boundedHasher } from '../../lib/passwords/bounded-hasher.ts'
import { bcryptHasher, type PasswordHasher } from '../../lib/passwords/hasher.ts'

/** Wraps the real hasher and records how many of its jobs ran at once. */
function observed (inner: PasswordHasher): PasswordHasher & { peak: number } {
  let running = 0
  const wrap = async <T>(job: () => Promise<T>): Promise<T> => {
    running++
    result.peak = Math.max(result.peak, running)
    try {
      return await job()
    } finally {
      running--
    }
  }
  const result = {
    peak: 0,
    hash: (p: string) => wrap(() => inner.hash(p)),
    verify: (p: string, s: string) => wrap(() => inner.verify(p, s)),
    needsRehash: (s: string) => inner.needsRehash(s)
  }
  return result
}

t.test('never more than `concurrency` jobs at once; the rest wait their turn and all finish', async t => {
  const inner = observed(bcryptHasher({ rounds: 6 }))
  const hasher = boundedHasher(inner, { concurrency: 2, maxWaitMs: 60_000 })
  const hashes = await Promise.all(Array.from({ length: 12 }, (_, i) => hasher.hash(`password ${i}`)))
  t.equal(inner.peak, 2)
  t.equal(hashes.length, 12)
  t.equal(await hasher.verify('password 3', hashes[3] as string), true)
  t.equal(hasher.needsRehash(hashes[0] as string), false)
  t.equal(hasher.running, 0)
  t.equal(hasher.queued, 0)
})

t.test('sheds with 503 and Retry-After only when the expected wait passes the bound', async t => {
  const hasher = boundedHasher(bcryptHasher({ rounds: 6 }), { concurrency: 1, maxWaitMs: 0 })
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => hasher.hash('some password')))
  t.equal(results.filter(r => r.status === 'fulfilled').length, 1, 'only the job that found a free slot ran')
  const refused = results.filter(r => r.status === 'rejected').map(r => (r as PromiseRejectedResult).reason)
  t.equal(refused.length, 4)
  for (const error of refused) t.match(error, { code: 'FST_LCAUTH_BUSY', statusCode: 503, retryAfterSeconds: Number })
  t.ok((refused[0] as { retryAfterSeconds: number }).retryAfterSeconds >= 1)
})

t.test('a failing job frees its slot', async t => {
  const failing: PasswordHasher = {
    hash: async () => { throw new Error('boom') },
    verify: async () => false,
    needsRehash: () => false
  }
  const hasher = boundedHasher(failing, { concurrency: 1, maxWaitMs: 60_000 })
  const results = await Promise.allSettled([hasher.hash('a'), hasher.hash('b'), hasher.verify('c', 'd')])
  t.same(results.map(r => r.status), ['rejected', 'rejected', 'fulfilled'])
  t.equal(hasher.running, 0)
})
