import proxyaddr from '@fastify/proxy-addr'
import type { FastifyBaseLogger } from 'fastify'

const nearby = proxyaddr.compile(['loopback', 'linklocal', 'uniquelocal'])

/**
 * Watches for the tell-tale of an unconfigured reverse proxy: with TRUST_PROXY unset, a loopback or
 * private peer forwarding `X-Forwarded-For`. Behind such a proxy every client shares its address, so
 * one limit and one ban. Says so once per process, with what to set; returns true once it has spoken,
 * so the caller can stop asking.
 */
export function proxyHint (log: FastifyBaseLogger): (peer: string | undefined, forwardedFor: string | string[] | undefined) => boolean {
  return (peer, forwardedFor) => {
    if (forwardedFor === undefined || peer === undefined || !nearby(peer, 0)) return false
    log.warn({ event: 'lcauth.untrusted_proxy', peer },
      `requests from ${peer} carry X-Forwarded-For, but TRUST_PROXY is unset: every client behind that proxy shares one address, one limit and one ban. If it is your reverse proxy, set TRUST_PROXY=${peer} (or its range), and pass the same list to Fastify's trustProxy`)
    return true
  }
}
