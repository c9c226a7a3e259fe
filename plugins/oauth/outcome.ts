import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Core } from '../../lib/core.ts'
import type { OAuthFailureReason } from '../../lib/events.ts'
import { SocialRefusal } from '../../lib/identities/social-accounts.ts'
import { ProviderFailure } from '../../lib/identities/provider-profile.ts'
import { contextOf } from '../http/context.ts'
import type { OAuthFlow } from './flow-cookie.ts'

/** What went wrong, for the log and the event: never shown to the browser. */
export interface Failure {
  reason: OAuthFailureReason
  userId: string | null
  /** A short description for the operator's log; never a token or the provider's own text. */
  detail: string
}

/**
 * Where a browser lands: LibreChat's login error page for a sign-in (`redirect=false` keeps its login
 * page from bouncing straight back to the provider under OPENID_AUTO_REDIRECT), the app with a flag for a link.
 */
export function landing (domainClient: string, intent: OAuthFlow['intent'], outcome: 'ok' | 'failed', provider: string): string {
  if (intent === 'link') return outcome === 'ok' ? `${domainClient}/?linked=${provider}` : `${domainClient}/?error=link_failed`
  return outcome === 'ok' ? `${domainClient}/` : `${domainClient}/login?redirect=false&error=auth_failed`
}

/** Turns anything a callback can throw into a failure with a reason. */
export function failureOf (error: unknown): Failure {
  if (error instanceof SocialRefusal) return { reason: error.reason, userId: error.userId, detail: error.message }
  if (error instanceof ProviderFailure) return { reason: error.reason, userId: null, detail: error.message }
  const code = (error as { code?: unknown }).code
  if (code === 'FST_LCAUTH_BANNED') return { reason: 'banned', userId: null, detail: 'the client is banned' }
  if (code === 'FST_LCAUTH_RATE_LIMITED') return { reason: 'rate_limited', userId: null, detail: 'the login limit was reached' }
  if (code === 'FST_LCAUTH_STORAGE_UNAVAILABLE' || code === 'FST_LCAUTH_BUSY') return { reason: 'unavailable', userId: null, detail: String(code) }
  return { reason: 'internal', userId: null, detail: 'unexpected error' }
}

/**
 * Ends a sign-in that failed: the reason is logged and emitted, and the browser gets a plain redirect
 * to the generic failure page, without the provider's words, a token or a stack.
 */
export function fail (core: Core, request: FastifyRequest, reply: FastifyReply, provider: string, intent: OAuthFlow['intent'], failure: Failure, error?: unknown): FastifyReply {
  const log = { event: 'lcauth.oauth_failed', provider, reason: failure.reason, detail: failure.detail }
  if (failure.reason === 'internal') request.log.error({ ...log, err: error }, 'social sign-in failed')
  else request.log.warn(log, 'social sign-in failed')
  core.events.emit('oauth.failure', { ...contextOf(request), at: core.now(), provider, reason: failure.reason, userId: failure.userId })
  return reply.redirect(landing(core.config.domainClient, intent, 'failed', provider), 302)
}
