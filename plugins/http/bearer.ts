import type { FastifyRequest } from 'fastify'

/** The token of an `Authorization: Bearer` header, the only place access tokens are read from. */
export function bearerToken (request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (typeof header !== 'string' || header.length < 8) return null
  const space = header.indexOf(' ')
  if (space === -1 || header.slice(0, space).toLowerCase() !== 'bearer') return null
  const token = header.slice(space + 1).trim()
  return token === '' ? null : token
}
