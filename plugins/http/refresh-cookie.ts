import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { cookieValue } from './cookie-value.ts'

/**
 * The refresh cookie: HttpOnly, SameSite=Strict, Path=/, no Domain; `__Host-` prefixed and Secure
 * when the server is reached over https. Only the configured name is ever read. Read and written
 * through @fastify/cookie (registered in the plugin's scope unless the host has it).
 */
export interface RefreshCookie {
  readonly name: string
  read(request: FastifyRequest): string | null
  set(reply: FastifyReply, token: string, expiresAt: Date, now: Date): void
  clear(reply: FastifyReply): void
}

export function refreshCookie (secure: boolean): RefreshCookie {
  const name = secure ? '__Host-refreshToken' : 'refreshToken'
  // Every attribute explicit, so a host's @fastify/cookie `parseOptions` (a Domain, signing) never
  // changes this cookie: the `__Host-` prefix forbids a Domain, and the value is already unguessable.
  const attributes: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'strict', path: '/', signed: false, partitioned: false }
  Object.assign(attributes, { domain: undefined })
  return {
    name,
    read: request => cookieValue(request, name),
    set (reply, token, expiresAt, now) {
      const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000))
      void reply.setCookie(name, token, { ...attributes, maxAge })
    },
    clear (reply) {
      void reply.clearCookie(name, attributes)
    }
  }
}
