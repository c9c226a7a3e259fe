import type { CookieSerializeOptions } from '@fastify/cookie'
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../../lib/clock.ts'
import { cookieValue } from '../http/cookie-value.ts'
import { deriveKey } from '../../lib/crypto/keys.ts'
import type { CoreConfig } from '../../lib/options/types.ts'

/** One sign-in (or link) in flight, from the redirect to the provider until its callback. */
export interface OAuthFlow {
  /** The provider whose callback may use it: a flow started for one provider is refused at another's (mix-up). */
  provider: string
  /** Sent to the provider and expected back. */
  state: string
  /** The PKCE verifier, when the provider takes a challenge. */
  verifier: string | null
  /** The OpenID nonce, when there is one. */
  nonce: string | null
  /** `link`: a signed-in user (`userId`) adds this sign-in to their account. */
  intent: 'login' | 'link'
  userId: string | null
}

export type FlowRead = { ok: true, flow: OAuthFlow } | { ok: false, reason: 'state_missing' | 'state_invalid' }

/**
 * The flow lives in one short-lived cookie, HMAC-signed, so no server-side session store is needed:
 * HttpOnly, SameSite=Lax (it must come back on the provider's top-level redirect), scoped to the
 * `/oauth` paths, and cleared by the callback whatever happens. Signing stops a forged flow (another
 * intent, another user id); the state match binds the callback to this browser.
 */
export interface FlowCookie {
  write(reply: FastifyReply, flow: OAuthFlow): void
  read(request: FastifyRequest): FlowRead
  clear(reply: FastifyReply): void
}

export const FLOW_LIFETIME_MS: number = 10 * 60_000
const MAX_VALUE = 4096

export function flowCookie (options: { key: Buffer, secure: boolean, path: string, now: Clock }): FlowCookie {
  const { key, now } = options
  const name = options.secure ? '__Secure-lcauth_oauth' : 'lcauth_oauth'
  const attributes: CookieSerializeOptions = { httpOnly: true, secure: options.secure, sameSite: 'lax', path: options.path, signed: false, partitioned: false }
  Object.assign(attributes, { domain: undefined })
  const sign = (body: string): Buffer => createHmac('sha256', key).update(`lcauth oauth flow v1.${body}`).digest()

  return {
    write (reply, flow) {
      const body = Buffer.from(JSON.stringify({ ...flow, expiresAt: now().getTime() + FLOW_LIFETIME_MS })).toString('base64url')
      void reply.setCookie(name, `${body}.${sign(body).toString('base64url')}`, { ...attributes, maxAge: FLOW_LIFETIME_MS / 1000 })
    },
    read (request) {
      const value = cookieValue(request, name)
      if (value === null) return { ok: false, reason: 'state_missing' }
      const [body = '', mac = '', ...rest] = value.length > MAX_VALUE ? [] : value.split('.')
      const given = Buffer.from(mac, 'base64url')
      const expected = sign(body)
      if (rest.length > 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'state_invalid' }
      const flow = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as OAuthFlow & { expiresAt: number }
      // Signed by us, so well formed; only its age is left to check.
      if (!(flow.expiresAt > now().getTime())) return { ok: false, reason: 'state_invalid' }
      return { ok: true, flow: { provider: flow.provider, state: flow.state, verifier: flow.verifier, nonce: flow.nonce, intent: flow.intent, userId: flow.userId } }
    },
    clear (reply) {
      void reply.clearCookie(name, attributes)
    }
  }
}

/**
 * The flow cookie of this deployment, keyed from `secret` (HKDF): Secure like the refresh cookie, and
 * path-scoped to the browser-visible /oauth routes (DOMAIN_SERVER may sit under a path).
 */
export function flowCookieFor (config: CoreConfig, secret: string, now: Clock): FlowCookie {
  const path = `${new URL(config.domainServer).pathname.replace(/\/$/, '')}/oauth`
  return flowCookie({ key: deriveKey(secret, 'oauth flow'), secure: config.sessionCookieSecure, path, now })
}
