import { createHash } from 'node:crypto'
import bcrypt from 'bcrypt'

/** Hashes and checks passwords. The default is bcrypt over a SHA-256 pre-hash; tests may wrap it. */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** True when `password` matches `stored`, in our scheme or as a plain (LibreChat) bcrypt hash. */
  verify(password: string, stored: string): Promise<boolean>
  /** True when `stored` should be replaced by a fresh hash after a successful login. */
  needsRehash(stored: string): boolean
}

/** Marks hashes of our scheme: bcrypt over base64(SHA-256(NFKC(password))). */
export const SCHEME_PREFIX = '$lcsha256$'
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/

/**
 * The pre-hash keeps every character of a long password (bcrypt alone ignores everything past 72 bytes)
 * and removes NUL bytes from bcrypt's input. NFKC makes composed and decomposed forms equal.
 */
function prehash (password: string): string {
  return createHash('sha256').update(password.normalize('NFKC'), 'utf8').digest('base64')
}

/** bcrypt runs on the libuv thread pool, so hashing never blocks the event loop. */
export function bcryptHasher (options: { rounds: number }): PasswordHasher {
  const { rounds } = options
  return {
    async hash (password) {
      return SCHEME_PREFIX + await bcrypt.hash(prehash(password), rounds)
    },
    async verify (password, stored) {
      if (stored.startsWith(SCHEME_PREFIX)) {
        const inner = stored.slice(SCHEME_PREFIX.length)
        return BCRYPT.test(inner) && bcrypt.compare(prehash(password), inner)
      }
      // A plain bcrypt hash imported from LibreChat: it hashed the raw password.
      return BCRYPT.test(stored) && bcrypt.compare(password, stored)
    },
    needsRehash (stored) {
      if (!stored.startsWith(SCHEME_PREFIX)) return true
      const cost = BCRYPT.exec(stored.slice(SCHEME_PREFIX.length))?.[1]
      return cost === undefined || Number(cost) < rounds
    }
  }
}
