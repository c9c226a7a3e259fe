import { hmac } from '../crypto/keys.ts'
import { canonicalEmail } from './email.ts'

/**
 * What stands for an email in events and logs: a keyed HMAC of its canonical form (or of the trimmed,
 * lower-cased text when it is not a valid address). Stable, so failures can be counted per address,
 * but not reversible by hashing guessed addresses without the key.
 */
export function subjectHasher (key: Buffer): (identifier: string) => string {
  return identifier => hmac(key, canonicalEmail(identifier) ?? identifier.trim().toLowerCase())
}
