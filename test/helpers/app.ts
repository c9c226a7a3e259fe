import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import authPlugin, { type AuthEventName, type AuthEvents, type AuthOptions } from '../../index.ts'
import { LIMITERS } from '../../lib/moderation/limits.ts'

export const SECRET = 'test-access-secret-0123456789abcdef-0123456789'
export const REFRESH_SECRET = 'test-refresh-secret-0123456789abcdef-012345678'
export const SERVER = 'http://127.0.0.1:3080'

/**
 * Limits so high that suites about other things never meet them; the moderation suites set their own
 * (a `moderation` option replaces this one as a whole).
 */
export const relaxedModeration: NonNullable<AuthOptions['moderation']> = {
  limits: Object.fromEntries(Object.keys(LIMITERS).map(name => [name, { max: 1_000_000, windowMs: 60_000 }]))
}

export const baseOptions: AuthOptions = {
  jwtSecret: SECRET,
  jwtRefreshSecret: REFRESH_SECRET,
  domainServer: SERVER,
  // The lowest cost bcrypt accepts: the suite checks behaviour, bench/ measures cost.
  bcryptRounds: 4,
  production: false,
  moderation: relaxedModeration
}

/** Records every event the plugin emits, in order. */
export class EventLog {
  readonly all: Array<{ name: AuthEventName, payload: AuthEvents[AuthEventName] }> = []
  /** The payloads of one event type, removed from the log. */
  take<E extends AuthEventName> (name: E): Array<AuthEvents[E]> {
    const taken = this.all.filter(e => e.name === name)
    for (const e of taken) this.all.splice(this.all.indexOf(e), 1)
    return taken.map(e => e.payload as AuthEvents[E])
  }

  names (): AuthEventName[] {
    return this.all.map(e => e.name)
  }
}

interface Teardown { teardown(fn: () => unknown): void }

/** A fresh app with the plugin, closed when the test ends. */
export async function build (t: Teardown, options: Partial<AuthOptions> = {}, setup?: (app: FastifyInstance) => void | Promise<void>, before?: (app: FastifyInstance) => Promise<void>): Promise<{ app: FastifyInstance, events: EventLog }> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  if (before) await before(app)
  await app.register(authPlugin, { ...baseOptions, ...options })
  const events = new EventLog()
  app.lcauth.events.onAny((name, payload) => events.all.push({ name, payload }))
  app.get('/api/protected', { preHandler: app.lcauth.authenticate }, async (request) => ({ user: request.authUser }))
  if (setup) await setup(app)
  await app.ready()
  return { app, events }
}

export const alice = { name: 'Alice Liddell', email: 'alice@example.test', password: 'correct horse battery staple', confirm_password: 'correct horse battery staple' }

export function register (app: FastifyInstance, body: Record<string, unknown> = alice): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/register', payload: body })
}

export function login (app: FastifyInstance, email = alice.email, password = alice.password, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, headers })
}

/** The refresh cookie's value from a response, or null. */
export function refreshCookieOf (response: LightMyRequestResponse): string | null {
  const cookie = response.cookies.find(c => c.name === 'refreshToken' || c.name === '__Host-refreshToken')
  return cookie && cookie.value !== '' ? cookie.value : null
}

export async function registerAndLogin (app: FastifyInstance, user = alice): Promise<{ token: string, refresh: string, response: LightMyRequestResponse }> {
  const r = await register(app, user)
  if (r.statusCode !== 200) throw new Error(`register failed: ${r.body}`)
  const response = await login(app, user.email, user.password)
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`)
  return { token: response.json().token, refresh: refreshCookieOf(response) as string, response }
}
