import type { IncomingMessage } from 'node:http'
import proxyaddr from '@fastify/proxy-addr'
import { isIP } from 'node:net'
import { configError } from '../../lib/errors.ts'
import { canonicalAddress, type TrustProxy } from '../../lib/moderation/client-address.ts'

export interface ProxyTrust {
  /** The client behind a request from `peer` with these X-Forwarded-For values, in canonical form. */
  clientOf(peer: string | undefined, forwardedFor: string | string[] | undefined): string
  /** Fastify's `trustProxy` function form: the host's `request.ip` then follows the same rule. */
  trusts(address: string, hop: number): boolean
}

type Trust = (address: string, hop: number) => boolean

/**
 * Parses a trust setting with @fastify/proxy-addr (the resolver Fastify's own `trustProxy` uses); a
 * bad entry is a configuration error naming `option`. Names are matched in any case.
 */
export function proxyTrust (value: TrustProxy | undefined, option = 'trustProxy'): ProxyTrust {
  const trust = compile(value, option)
  return {
    trusts: (address, hop) => trust(address, hop),
    clientOf (peer, forwardedFor) {
      const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor
      const request = { socket: { remoteAddress: peer }, headers: header === undefined ? {} : { 'x-forwarded-for': header } }
      // The socket peer, then each trusted hop's claim, up to the first hop not trusted. An entry that
      // is not an address ends the walk at the last good one: it names no one.
      const hops = proxyaddr.all(request as unknown as IncomingMessage, trust)
      const found = hops.findLast(address => isIP(address) !== 0)
      return canonicalAddress(found)
    }
  }
}

function compile (value: TrustProxy | undefined, option: string): Trust {
  if (value === undefined || value === false) return () => false
  if (value === true) return () => true
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw configError(option, 'must be a list of addresses or CIDR ranges')
    return (_address, hop) => hop < value
  }
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list)) throw configError(option, 'must be a list of addresses or CIDR ranges')
  const entries = (list as unknown[]).map(entry => typeof entry === 'string' ? normalise(entry) : '')
  try {
    return proxyaddr.compile(entries)
  } catch (error) {
    throw Object.assign(configError(option, `has an entry that is not an address or CIDR range: ${JSON.stringify(String(list.find(entry => !valid(entry)))).slice(0, 60)}`), { cause: error })
  }
}

/** proxy-addr knows its names in lower case only. */
function normalise (entry: string): string {
  const trimmed = entry.trim()
  return /^[a-z]+$/i.test(trimmed) ? trimmed.toLowerCase() : trimmed
}

function valid (entry: unknown): boolean {
  if (typeof entry !== 'string') return false
  try {
    proxyaddr.compile(normalise(entry))
    return true
  } catch {
    return false
  }
}
