import { bcryptHasher, type PasswordHasher } from '../../index.ts'

/**
 * The real bcrypt hasher (cost 4), wrapped to count its calls and remember what it hashed and which
 * stored hashes it compared against: LOG-02 and PWD-02 are about how often hashing happens.
 */
export function countingHasher (rounds = 4): { hasher: PasswordHasher, counts: { hash: number, verify: number }, hashed: string[], compared: string[], reset: () => void } {
  const inner = bcryptHasher({ rounds })
  const counts = { hash: 0, verify: 0 }
  const hashed: string[] = []
  const compared: string[] = []
  const hasher: PasswordHasher = {
    async hash (password) {
      counts.hash++
      hashed.push(password)
      return inner.hash(password)
    },
    async verify (password, stored) {
      counts.verify++
      compared.push(stored)
      return inner.verify(password, stored)
    },
    needsRehash: stored => inner.needsRehash(stored)
  }
  const reset = (): void => {
    counts.hash = 0
    counts.verify = 0
    hashed.length = 0
    compared.length = 0
  }
  return { hasher, counts, hashed, compared, reset }
}

/** A clock the test moves by hand; the plugin reads every time from it. */
export function manualClock (start = Date.parse('2030-01-01T00:00:00.000Z')): { now: () => Date, advance: (ms: number) => void, ms: () => number } {
  let current = start
  return { now: () => new Date(current), advance: ms => { current += ms }, ms: () => current }
}

/** The `sid` claim of an access token. */
export function sidOf (token: string): string {
  const parsed: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
  if (typeof parsed !== 'object' || parsed === null || !('sid' in parsed) || typeof parsed.sid !== 'string') throw new Error('no sid claim')
  return parsed.sid
}
