import type { FastifyRequest } from 'fastify'

const MAX_COOKIE_HEADER = 8192

/**
 * One cookie's value, or null when absent or empty. Reads @fastify/cookie's parse, or parses the
 * header itself when a host registered @fastify/cookie with `hook: false` (then `request.cookies` is
 * unset). An oversized header is not parsed at all.
 */
export function cookieValue (request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie
  if (typeof header !== 'string' || header.length > MAX_COOKIE_HEADER) return null
  const value = (request.cookies ?? request.server.parseCookie(header))[name]
  return typeof value === 'string' && value !== '' ? value : null
}
