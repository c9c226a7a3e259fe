import { BlockList, isIP, isIPv4 } from 'node:net'
import { configError } from '../errors.ts'

/**
 * Which proxies may tell us the client's address through X-Forwarded-For (`TRUST_PROXY`): a list of
 * addresses and CIDR ranges (plus the names `loopback`, `linklocal`, `uniquelocal`), or, unsafely, a
 * hop count or `true`. With neither, the socket peer is the client.
 */
export type TrustProxy = boolean | number | string | readonly string[]

export interface ProxyTrust {
  /** The address of the client behind a request from `peer` with these X-Forwarded-For values. */
  clientOf(peer: string | undefined, forwardedFor: string | string[] | undefined): string
  /** True for a hop count or `true`: anyone reaching the app directly can pick their own address. */
  readonly forgeable: boolean
}

const NAMED: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
}

/** Parses a trust setting; a bad entry is a configuration error naming `option`. */
export function proxyTrust (value: TrustProxy | undefined, option = 'trustProxy'): ProxyTrust {
  if (value === undefined || value === false) return { clientOf: peer => plain(peer), forgeable: false }
  if (value === true) return { clientOf: (peer, xff) => pick(peer, xff, () => true, Infinity), forgeable: true }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw configError(option, 'must be a list of addresses or CIDR ranges')
    return { clientOf: (peer, xff) => pick(peer, xff, () => true, value), forgeable: value > 0 }
  }
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list)) throw configError(option, 'must be a list of addresses or CIDR ranges')
  const blocks = new BlockList()
  for (const raw of list as unknown[]) {
    const entry = typeof raw === 'string' ? raw.trim().toLowerCase() : ''
    for (const range of NAMED[entry] ?? [entry]) {
      if (!addRange(blocks, range)) throw configError(option, `has an entry that is not an address or CIDR range: ${JSON.stringify(String(raw)).slice(0, 60)}`)
    }
  }
  const trusted = (address: string): boolean => blocks.check(address, isIPv4(address) ? 'ipv4' : 'ipv6')
  return { clientOf: (peer, xff) => pick(peer, xff, trusted, Infinity), forgeable: false }
}

function addRange (blocks: BlockList, range: string): boolean {
  const [address = '', bits, extra] = range.split('/')
  const family = isIP(address)
  if (family === 0 || extra !== undefined) return false
  const max = family === 4 ? 32 : 128
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN
  if (!(prefix >= 0 && prefix <= max)) return false
  blocks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6')
  return true
}

/** An address in one canonical form: IPv6 lower-case and expanded to eight groups, IPv4-mapped IPv6 folded to IPv4; `unknown` for anything else. */
function plain (address: string | undefined): string {
  if (address === undefined) return 'unknown'
  const family = isIP(address)
  if (family === 4) return address
  if (family === 0) return 'unknown'
  const groups = groupsOf(address)
  if (groups.slice(0, 5).every(g => g === '0') && groups[5] === 'ffff') {
    // Eight groups, always: the last two are the IPv4 address.
    const hi = parseInt(groups[6] as string, 16)
    const lo = parseInt(groups[7] as string, 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return groups.join(':')
}

/** The eight hex groups of an IPv6 address, without leading zeros; the WHATWG URL parser does the canonicalising. */
function groupsOf (address: string): string[] {
  const host = new URL(`http://[${address.split('%')[0] as string}]/`).hostname.slice(1, -1)
  const [head = '', tail] = host.split('::')
  const front = head === '' ? [] : head.split(':')
  const back = tail === undefined || tail === '' ? [] : tail.split(':')
  return tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back]
}

/**
 * Walks from the socket peer leftwards through X-Forwarded-For while the current hop is trusted, at
 * most `hops` steps; an entry that is not an address stops the walk at the last good one.
 */
function pick (peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: (address: string) => boolean, hops: number): string {
  let client = plain(peer)
  if (forwardedFor === undefined || client === 'unknown') return client
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',')
  for (let i = chain.length - 1, steps = 0; i >= 0 && steps < hops && trusted(client); i--, steps++) {
    const next = plain(chain[i]?.trim())
    if (next === 'unknown') break
    client = next
  }
  return client
}

/**
 * The key that limits and bans count a client under: an IPv4 address as is, an IPv6 address by its
 * /64 (one customer's whole allocation is one client), an IPv4-mapped IPv6 address as IPv4.
 */
export function addressKey (address: string): string {
  const canonical = plain(address)
  if (canonical === 'unknown' || isIPv4(canonical)) return canonical
  return `${canonical.split(':').slice(0, 4).join(':')}::/64`
}
