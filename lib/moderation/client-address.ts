import { isIP, isIPv4 } from 'node:net'
import { Address4, Address6 } from 'ip-address'

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

/**
 * True when a trust list covers every IPv4 or every IPv6 address, whole (`0.0.0.0/0`, `::/0`) or in
 * pieces (`0.0.0.0/1,128.0.0.0/1`): as unsafe as `true`, since every client is then a trusted proxy.
 * IPv4-mapped IPv6 ranges count as the IPv4 addresses they map. Entries that are not ranges (names,
 * mistakes) cover nothing here; the plugin refuses mistakes when it compiles the list.
 */
export function coversEveryAddress (trust: TrustProxy | undefined): boolean {
  if (typeof trust !== 'string' && !Array.isArray(trust)) return false
  const entries = typeof trust === 'string' ? trust.split(',') : trust
  const v4: Array<[bigint, bigint]> = []
  const v6: Array<[bigint, bigint]> = []
  for (const entry of entries) {
    const range = rangeOf(typeof entry === 'string' ? entry.trim() : '')
    if (range !== null) (range.family === 4 ? v4 : v6).push([range.start, range.end])
  }
  return covers(v4, (1n << 32n) - 1n) || covers(v6, (1n << 128n) - 1n)
}

const MAPPED_START = 0xffff_0000_0000n
const MAPPED_END = 0xffff_ffff_ffffn

function rangeOf (entry: string): { family: 4 | 6, start: bigint, end: bigint } | null {
  const parsed = Address4.isValid(entry) ? new Address4(entry) : Address6.isValid(entry) ? new Address6(entry) : null
  if (parsed === null) return null
  const start = parsed.startAddress().bigInt()
  const end = parsed.endAddress().bigInt()
  if (parsed instanceof Address4) return { family: 4, start, end }
  if (start >= MAPPED_START && end <= MAPPED_END) return { family: 4, start: start - MAPPED_START, end: end - MAPPED_START }
  return { family: 6, start, end }
}

/** Whether the ranges, merged, cover 0 … max. */
function covers (ranges: Array<[bigint, bigint]>, max: bigint): boolean {
  let next = 0n
  for (const [start, end] of ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (start > next) return false
    if (end + 1n > next) next = end + 1n
    if (next > max) return true
  }
  return false
}
