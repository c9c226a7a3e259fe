import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import authPlugin, { type AuthOptions } from '../../index.ts'
import { baseOptions, EventLog, refreshCookieOf } from './app.ts'
import type { OidcStandIn } from './oidc-provider.ts'
import { finish, flowCookieOf } from './social.ts'

interface Teardown { teardown(fn: () => unknown): void }

/** The plugin's `openid` option for a stand-in. */
export function openidOptions (provider: OidcStandIn, extra: Partial<NonNullable<AuthOptions['openid']>> = {}): NonNullable<AuthOptions['openid']> {
  return { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, ...extra }
}

/** An app with OpenID against the stand-in (social registration on unless the options say otherwise), its events and its log lines. */
export async function openidApp (t: Teardown, provider: OidcStandIn, extra: Partial<NonNullable<AuthOptions['openid']>> = {}, options: Partial<AuthOptions> = {}): Promise<{ app: FastifyInstance, events: EventLog, logs: Array<Record<string, unknown>> }> {
  const logs: Array<Record<string, unknown>> = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>) } } } })
  t.teardown(() => app.close())
  await app.register(authPlugin, { ...baseOptions, logEvents: false, allowSocialLogin: true, allowSocialRegistration: true, openid: openidOptions(provider, extra), ...options })
  const events = new EventLog()
  app.lcauth.events.onAny((name, payload) => events.all.push({ name, payload }))
  await app.ready()
  return { app, events, logs }
}

export interface OpenIdRound { start: LightMyRequestResponse, callback: LightMyRequestResponse, refresh: string | null }

/** Plays a browser through one OpenID sign-in: our start route, the provider's pages, our callback. */
export async function openidSignIn (app: FastifyInstance, provider: OidcStandIn, options: { deny?: boolean } = {}): Promise<OpenIdRound> {
  const start = await app.inject({ method: 'GET', url: '/oauth/openid' })
  const location = String(start.headers.location)
  if (!location.startsWith(provider.issuer)) return { start, callback: start, refresh: null }
  const callbackUrl = await provider.signIn(location, options)
  const callback = await finish(app, callbackUrl, flowCookieOf(start))
  return { start, callback, refresh: refreshCookieOf(callback) }
}

/** The user behind a refresh cookie, with a fresh access token. */
export async function refreshed (app: FastifyInstance, refresh: string | null): Promise<{ token: string, user: Record<string, unknown> } | null> {
  const response = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `refreshToken=${refresh}` } })
  return response.statusCode === 200 ? response.json() : null
}
