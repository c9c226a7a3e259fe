import fastifySwagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import authPlugin from '../../index.ts'
import { errorCodes } from '../../lib/errors.ts'
import { baseOptions } from '../helpers/app.ts'

// What a host's @fastify/swagger makes of the plugin's routes: every route documented as it behaves,
// its refusals in Fastify's error shape, its body, and the bearer token where it needs one.

interface Media { schema: { type?: string, properties?: Record<string, { enum?: unknown[] }>, required?: string[], additionalProperties?: boolean } }
interface Response { description: string, content?: Record<string, Media>, headers?: Record<string, unknown> }
interface Operation {
  summary?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, Response>
}
type Paths = Record<string, Record<string, Operation>>

interface Expected {
  success: number
  /** Every error status the route can answer with (500 is expected on every route). */
  errors: number[]
  /** The body's fields, when it takes one. */
  body?: string[]
  bearer?: boolean
}

const BODY = [400, 413, 415]
const EXPECTED: Record<string, Expected> = {
  'POST /api/auth/register': { success: 200, errors: [...BODY, 403, 429, 503], body: ['name', 'username', 'email', 'password', 'confirm_password'] },
  'POST /api/auth/login': { success: 200, errors: [...BODY, 401, 403, 422, 429, 503], body: ['email', 'password'] },
  'POST /api/auth/refresh': { success: 200, errors: [...BODY, 401, 403, 429, 503] },
  'POST /api/auth/logout': { success: 200, errors: [...BODY, 403, 503] },
  'GET /api/auth/sessions': { success: 200, errors: [401, 403, 503], bearer: true },
  'DELETE /api/auth/sessions': { success: 204, errors: [...BODY, 401, 403, 503], bearer: true },
  'DELETE /api/auth/sessions/{id}': { success: 204, errors: [...BODY, 401, 403, 404, 503], bearer: true },
  'POST /api/auth/password': { success: 200, errors: [...BODY, 401, 403, 429, 503], body: ['currentPassword', 'password', 'confirm_password'], bearer: true },
  'POST /api/auth/requestPasswordReset': { success: 200, errors: [...BODY, 403, 429, 503], body: ['email'] },
  'POST /api/auth/resetPassword': { success: 200, errors: [...BODY, 403, 429, 503], body: ['token', 'password', 'confirm_password', 'userId'] },
  'POST /api/user/verify': { success: 200, errors: [...BODY, 403, 429, 503], body: ['email', 'token'] },
  'POST /api/user/verify/resend': { success: 200, errors: [...BODY, 403, 429, 503], body: ['email'] },
  'DELETE /api/user/delete': { success: 200, errors: [...BODY, 401, 403, 429, 503], body: ['password'], bearer: true },
  'GET /api/user': { success: 200, errors: [401, 403, 503], bearer: true },
  'GET /api/user/identities': { success: 200, errors: [401, 403, 503], bearer: true },
  'POST /api/user/identities/{provider}': { success: 200, errors: [...BODY, 401, 403, 404, 429, 503], body: ['password'], bearer: true },
  'DELETE /api/user/identities/{provider}': { success: 204, errors: [...BODY, 401, 403, 404, 409, 503], bearer: true },
  'GET /api/auth/config': { success: 200, errors: [] }
}

const statusOf = new Map(errorCodes.map(({ code, statusCode }) => [code, statusCode]))
const RETRY_AFTER = ['FST_LCAUTH_RATE_LIMITED', 'FST_LCAUTH_BANNED', 'FST_LCAUTH_BUSY']

/** A host app with @fastify/swagger (OpenAPI 3, a bearerAuth scheme) and the plugin; the routes the plugin declared. */
async function documentedHost (t: { teardown(fn: () => unknown): void }): Promise<{ app: FastifyInstance, routes: string[] }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'host', version: '1.0.0' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }
    }
  })
  const routes: string[] = []
  app.addHook('onRoute', route => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`)
  })
  await app.register(authPlugin, baseOptions)
  await app.ready()
  return { app, routes }
}

t.test('every route of the plugin is in the host\'s OpenAPI document, as it behaves', async t => {
  const { app, routes } = await documentedHost(t)
  const paths = (app.swagger() as unknown as { paths: Paths }).paths
  t.same([...routes].sort(), Object.keys(EXPECTED).sort(), 'the table below lists every route the plugin declares')

  for (const [route, expected] of Object.entries(EXPECTED)) {
    const [method, path] = route.split(' ') as [string, string]
    const operation = paths[path]?.[method.toLowerCase()]
    if (operation === undefined) {
      t.fail(`${route} is missing`)
      continue
    }
    t.match(operation.summary, /\w/, `${route} has a summary`)
    t.ok(operation.summary !== undefined && !operation.summary.includes('\n'), `${route}: one line`)
    t.ok(operation.tags !== undefined && operation.tags.length > 0 && operation.tags.every(tag => ['auth', 'sessions', 'password', 'user'].includes(tag)), `${route} is tagged`)

    const statuses = Object.keys(operation.responses).map(Number).sort((a, b) => a - b)
    t.same(statuses, [expected.success, ...expected.errors, 500].sort((a, b) => a - b), `${route}: its success and every error status`)
    const success = operation.responses[String(expected.success)]
    if (expected.success === 204) t.ok(success !== undefined && success.content === undefined, `${route}: 204, no body`)
    else t.ok(success?.content?.['application/json']?.schema, `${route}: the success body is described`)

    for (const status of [...expected.errors, 500]) {
      const response = operation.responses[String(status)]
      const schema = response?.content?.['application/json']?.schema
      t.same(Object.keys(schema?.properties ?? {}).sort(), ['code', 'error', 'message', 'statusCode'], `${route} ${status}: Fastify's error shape`)
      t.same(schema?.required?.sort(), ['code', 'error', 'message', 'statusCode'])
      const codes = (schema?.properties?.code?.enum ?? []) as string[]
      t.ok(codes.length > 0 && codes.every(code => statusOf.get(code as never) === status), `${route} ${status}: the codes it lists are ${status} codes (${codes.join(', ')})`)
      for (const code of codes) t.ok(response?.description.includes(code), `${route} ${status}: the description names ${code}`)
      t.equal(response?.headers?.['retry-after'] !== undefined, codes.some(code => RETRY_AFTER.includes(code)), `${route} ${status}: Retry-After documented exactly when a code carries it`)
    }

    if (expected.body === undefined) {
      t.equal(operation.requestBody, undefined, `${route} takes no body`)
    } else {
      const body = operation.requestBody?.content['application/json']?.schema
      t.same(Object.keys(body?.properties ?? {}).sort(), [...expected.body].sort(), `${route}: its body`)
      t.equal(body?.additionalProperties, false, `${route}: unknown fields are refused`)
    }
    t.same(operation.security, expected.bearer === true ? [{ bearerAuth: [] }] : undefined, `${route}: ${expected.bearer === true ? 'needs' : 'does not need'} a bearer token`)
  }
})

t.test('the documented refusals are the ones a route answers with', async t => {
  const { app } = await documentedHost(t)
  const paths = (app.swagger() as unknown as { paths: Paths }).paths
  const codesOf = (path: string, method: string, status: number): unknown[] =>
    paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema.properties?.code?.enum ?? []

  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'nobody@example.test', password: 'not the password' } })
  t.ok(codesOf('/api/auth/login', 'post', login.statusCode).includes(login.json().code), `login: ${login.json().code}`)
  const crossSite = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { origin: 'https://evil.test' } })
  t.ok(codesOf('/api/auth/refresh', 'post', crossSite.statusCode).includes(crossSite.json().code), `refresh: ${crossSite.json().code}`)
  const noToken = await app.inject({ method: 'DELETE', url: '/api/auth/sessions/abc' })
  t.ok(codesOf('/api/auth/sessions/{id}', 'delete', noToken.statusCode).includes(noToken.json().code), `delete session: ${noToken.json().code}`)
  const form = await app.inject({ method: 'DELETE', url: '/api/user/delete', headers: { 'content-type': 'text/plain' }, payload: 'x' })
  t.ok(codesOf('/api/user/delete', 'delete', form.statusCode).includes(form.json().code), `delete user: ${form.json().code}`)
})
