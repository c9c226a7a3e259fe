import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A fresh random key prefix for one test file, e.g. `lcauth-test:outage:1a2b3c4d5e6f:`. */
export function randomPrefix (name: string): string {
  return `lcauth-test:${name}:${randomBytes(6).toString('hex')}:`
}

/** Every key under `prefix` (SCAN, never KEYS). */
export async function keysUnder (client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
    found.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return found
}

/** Keys under `prefix` that Redis would keep forever (PTTL -1), and how many keys were looked at. */
export async function keysWithoutTtl (client: Redis, prefix: string): Promise<{ scanned: string[], forever: string[] }> {
  const scanned = await keysUnder(client, prefix)
  const ttls = await Promise.all(scanned.map(key => client.pttl(key)))
  return { scanned, forever: scanned.filter((_, i) => ttls[i] === -1) }
}

/** Deletes every key under `prefix`; returns how many there were. */
export async function deleteUnder (client: Redis, prefix: string): Promise<number> {
  const keys = await keysUnder(client, prefix)
  if (keys.length > 0) await client.del(...keys)
  return keys.length
}

/** The Redis key of a ban, as lib/adapters/redis/keys.ts names it. */
export function banKey (prefix: string, subject: { kind: 'ip' | 'user', id: string }): string {
  return `${prefix}ban:${JSON.stringify({ kind: subject.kind, id: subject.id })}`
}
