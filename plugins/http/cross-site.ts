import type { FastifyRequest } from 'fastify'
import { errors } from '../../lib/errors.ts'

const SAME_SITE_FETCH = new Set(['same-origin', 'same-site', 'none'])

/**
 * Refuses cross-site requests on cookie-driven routes: an `Origin` must be one of `allowed` (`null`
 * is refused); without one, `Sec-Fetch-Site` must not say cross-site; with neither header the
 * request comes from a non-browser client and passes.
 */
export function crossSiteGuard (allowed: readonly string[]): (request: FastifyRequest) => Promise<void> {
  const origins = new Set(allowed.map(url => new URL(url).origin))
  return async (request) => {
    const origin = request.headers.origin
    if (origin !== undefined) {
      if (!origins.has(origin)) throw new errors.FST_LCAUTH_CROSS_SITE()
      return
    }
    const site = request.headers['sec-fetch-site']
    if (site !== undefined && !SAME_SITE_FETCH.has(String(site))) throw new errors.FST_LCAUTH_CROSS_SITE()
  }
}
