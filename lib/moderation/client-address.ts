import { isIP, isIPv4 } from 'node:net'
import { Address6 } from 'ip-address'

/**
 * Which proxies may tell us the client's address through X-Forwarded-For (`TRUST_PROXY`): a list of
 * addresses and CIDR ranges (plus the names `loopback`, `linklocal`, `uniquelocal`), or, unsafely, a
 * hop count or `true`. With neither, the socket peer is the client.
 */
export type TrustProxy = boolean | number | string | readonly string[]

/** True for a hop count or `true`: anyone reaching the app directly can pick their own address. */
export function isForgeable (trust: TrustProxy | undefined): boolean {
  return trust === true || (typeof trust === 'number' && trust > 0)
}

/**
 * An address in one canonical form: IPv6 as RFC 5952 writes it (lower case, zeros compressed, no
 * zone), IPv4-mapped IPv6 folded to IPv4; `unknown` for anything that is not an address.
 */
export function canonicalAddress (address: string | undefined): string {
  const family = address === undefined ? 0 : isIP(address)
  if (family === 0) return 'unknown'
  if (family === 4) return address as string
  const v6 = new Address6(address as string)
  return v6.isMapped4() ? v6.to4().correctForm() : v6.correctForm()
}

/**
 * The key that limits and bans count a client under: an IPv4 address as is, an IPv6 address by its
 * /64 (one customer's whole allocation is one client), an IPv4-mapped IPv6 address as IPv4. The same
 * text as @fastify/rate-limit's `normalizeIP` (on the same library), with `/64` appended.
 */
export function addressKey (address: string): string {
  const canonical = canonicalAddress(address)
  if (canonical === 'unknown' || isIPv4(canonical)) return canonical
  return `${new Address6(`${canonical}/64`).startAddress().correctForm()}/64`
}
