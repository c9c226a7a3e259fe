/**
 * Shared by the moderation route suites (test/routes/moderation-*.test.ts and their neighbours):
 * option types, client addresses and request shortcuts.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { AuthOptions } from '../../index.ts'
import type { LimiterName } from '../../lib/moderation/limits.ts'
import { alice, refreshCookieOf, relaxedModeration } from './app.ts'

/** The plugin's `moderation` option, set. */
export type Moderation = NonNullable<AuthOptions['moderation']>
/** Its `limits`, set. */
export type Limits = NonNullable<Moderation['limits']>
/** The JSON body of every error the plugin answers with. */
export interface ErrorBody { statusCode: number, code: string, error: string, message: string }

export const SECOND = 1000
export const MINUTE = 60 * SECOND
/** The abuser, a bystander that sets things up, and a third client. */
export const A = '203.0.113.9'
export const B = '198.51.100.7'
export const C = '192.0.2.44'
/** A wrong password for alice. */
export const WRONG = 'not the password at all'
/** A valid new password, for the password change and reset routes. */
export const NEW_PASSWORD = 'a brand new passphrase 42'

/** The error body of a response. */
export const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()
/** The authorization header for an access token. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** The relaxed limits of the other suites for every limiter, with `own` on top and `without` left unset. */
export function limits (own: Limits, without: LimiterName[] = []): Limits {
  const out: Limits = { ...relaxedModeration.limits, ...own }
  for (const name of without) Reflect.deleteProperty(out, name)
  return out
}

/** POST /api/auth/login from `ip`; alice's email and a wrong password unless told. */
export function loginFrom (app: FastifyInstance, ip: string, email = alice.email, password = WRONG): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { email, password } })
}

/** GET /api/protected (behind `authenticate`) with `token`, from B unless told. */
export function protectedRoute (app: FastifyInstance, token: string, ip = B): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/api/protected', remoteAddress: ip, headers: bearer(token) })
}

/** POST /api/auth/password with a wrong current password. */
export function changePassword (app: FastifyInstance, ip: string, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/password', remoteAddress: ip, headers: bearer(token), payload: { currentPassword: WRONG, password: NEW_PASSWORD, confirm_password: NEW_PASSWORD } })
}

/** DELETE /api/user/delete with a wrong password. */
export function deleteAccount (app: FastifyInstance, ip: string, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'DELETE', url: '/api/user/delete', remoteAddress: ip, headers: bearer(token), payload: { password: WRONG } })
}

/** Every header but `date`. */
export function comparableHeaders (response: LightMyRequestResponse): Record<string, unknown> {
  const { date: _date, ...rest } = response.headers
  return rest
}

/** Alice registered and logged in from `ip`: her access token, refresh token and user id. */
export async function aliceFrom (app: FastifyInstance, ip: string): Promise<{ token: string, refresh: string, userId: string }> {
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', remoteAddress: ip, payload: alice })
  if (registered.statusCode !== 200) throw new Error(`register failed: ${registered.body}`)
  return { ...await session(app, ip), userId: (await app.lcauth.storage.users.findByEmail(alice.email))?.id ?? '' }
}

/** Another session of alice, from `ip`. */
export async function session (app: FastifyInstance, ip: string): Promise<{ token: string, refresh: string }> {
  const response = await loginFrom(app, ip, alice.email, alice.password)
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`)
  return { token: response.json<{ token: string }>().token, refresh: refreshCookieOf(response) as string }
}
