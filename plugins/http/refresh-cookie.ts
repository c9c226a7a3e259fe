import { parseCookie, stringifySetCookie } from 'cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The refresh cookie: HttpOnly, SameSite=Strict, Path=/, no Domain; `__Host-` prefixed and Secure
 * when the server is reached over https. Only the configured name is ever read.
 */
export interface RefreshCookie {
  readonly name: string
  read(request: FastifyRequest): string | null
  set(reply: FastifyReply, token: string, expiresAt: Date, now: Date): void
  clear(reply: FastifyReply): void
}

const MAX_COOKIE_HEADER = 8192

export function refreshCookie (secure: boolean): RefreshCookie {
  const name = secure ? '__Host-refreshToken' : 'refreshToken'
  const attributes = { httpOnly: true, secure, sameSite: 'strict', path: '/' } as const
  return {
    name,
    read (request) {
      const header = request.headers.cookie
      if (typeof header !== 'string' || header.length > MAX_COOKIE_HEADER) return null
      const value = parseCookie(header)[name]
      return typeof value === 'string' && value !== '' ? value : null
    },
    set (reply, token, expiresAt, now) {
      const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000))
      reply.header('set-cookie', stringifySetCookie({ name, value: token, maxAge, ...attributes }))
    },
    clear (reply) {
      reply.header('set-cookie', stringifySetCookie({ name, value: '', maxAge: 0, expires: new Date(0), ...attributes }))
    }
  }
}
