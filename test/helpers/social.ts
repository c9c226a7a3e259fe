import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { AuthOptions } from '../../index.ts'
import { build, refreshCookieOf } from './app.ts'
import type { ProviderStandIn } from './oauth-providers.ts'

interface Teardown { teardown(fn: () => unknown): void }

/** Plugin options that point each stand-in's provider at it. */
export function socialOptions (standIns: ProviderStandIn[], timeout?: number): NonNullable<AuthOptions['socialLogin']> {
  const socialLogin: Record<string, unknown> = Object.fromEntries(standIns.map(s => [s.kind, {
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    ...(s.enterpriseBaseUrl === undefined ? { endpoints: s.endpoints } : { enterpriseBaseUrl: s.enterpriseBaseUrl })
  }]))
  if (timeout !== undefined) socialLogin.timeout = timeout
  return socialLogin as NonNullable<AuthOptions['socialLogin']>
}

/** An app with social login on (and social registration, unless the options say otherwise) against these stand-ins. */
export async function socialApp (t: Teardown, standIns: ProviderStandIn[], options: Partial<AuthOptions> = {}, timeout?: number): ReturnType<typeof build> {
  return build(t, { allowSocialLogin: true, allowSocialRegistration: true, socialLogin: socialOptions(standIns, timeout), ...options })
}

/** The `name=value` of the flow cookie a response set, or null. */
export function flowCookieOf (response: LightMyRequestResponse): string | null {
  const cookie = response.cookies.find(c => c.name === 'lcauth_oauth' || c.name === '__Secure-lcauth_oauth')
  return cookie === undefined || cookie.value === '' ? null : `${cookie.name}=${cookie.value}`
}

export interface SocialRound {
  start: LightMyRequestResponse
  /** The provider's authorization URL our start route redirected to. */
  authorizeUrl: string
  /** Where the provider sent the browser back: our callback, with code and state (or error). */
  callbackUrl: string
  /** The flow cookie as the browser holds it between the two. */
  flow: string | null
  callback: LightMyRequestResponse
  /** The refresh cookie the callback set, or null. */
  refresh: string | null
}

/** Plays a browser through one sign-in: our start route, the provider's consent, our callback. */
export async function signInWith (app: FastifyInstance, standIn: ProviderStandIn, options: { cookie?: string, alter?: (callbackPath: string) => string } = {}): Promise<SocialRound> {
  const start = await app.inject({ method: 'GET', url: `/oauth/${standIn.kind}`, headers: options.cookie === undefined ? {} : { cookie: options.cookie } })
  const authorizeUrl = String(start.headers.location)
  const flow = flowCookieOf(start)
  const callbackUrl = await standIn.consent(authorizeUrl)
  const callback = await finish(app, callbackUrl, flow, options.alter)
  return { start, authorizeUrl, callbackUrl, flow, callback, refresh: refreshCookieOf(callback) }
}

/** Our callback, requested as the browser would: path and query of `callbackUrl`, with the flow cookie. */
export async function finish (app: FastifyInstance, callbackUrl: string, flow: string | null, alter: (path: string) => string = p => p): Promise<LightMyRequestResponse> {
  const url = new URL(callbackUrl)
  return app.inject({ method: 'GET', url: alter(`${url.pathname}${url.search}`), headers: flow === null ? {} : { cookie: flow } })
}

export const FAILED = 'http://127.0.0.1:3080/login?redirect=false&error=auth_failed'
export const SIGNED_IN = 'http://127.0.0.1:3080/'
