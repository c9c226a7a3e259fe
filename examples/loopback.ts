import { isIPv4, isIPv6 } from 'node:net'

/**
 * True for an address of this machine only: 127.0.0.0/8, ::1, and 127.x written as an IPv4-mapped
 * IPv6 address (how a dual-stack socket reports an IPv4 peer). Anything else, or nothing, is false.
 */
export function isLoopbackAddress (address: string | undefined): boolean {
  if (address === undefined) return false
  const value = address.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (isIPv4(value)) return value.startsWith('127.')
  if (!isIPv6(value)) return false
  // The URL parser writes every IPv6 address one way: ::1, and ::ffff:7fxx:xxxx for a mapped 127.x.
  const canonical = new URL(`http://[${value}]/`).hostname
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical)
}

/** A listening address (`HOST`) that only this machine can reach: a loopback address or `localhost`. */
export function isLoopbackHost (host: string): boolean {
  const name = host.trim().toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || isLoopbackAddress(name)
}
