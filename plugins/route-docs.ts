import { STATUS_CODES } from 'node:http'
import type { FastifySchema } from 'fastify'
import { type ErrorCode, errorCodes } from '../lib/errors.ts'
import type { Schema } from './schemas.ts'

/**
 * What API tooling (@fastify/swagger) reads from the plugin's routes besides their bodies: the token
 * they need and the errors they can answer with. Nothing here changes what a route does.
 */

/** The tags the plugin's routes are grouped under. */
export type Tag = 'auth' | 'sessions' | 'password' | 'user' | 'oauth'

/** A route schema with the fields @fastify/swagger reads (it adds them to FastifySchema's type when installed). */
export interface DocumentedSchema extends FastifySchema {
  /** One line. */
  summary: string
  description?: string
  tags: readonly Tag[]
  security?: ReadonlyArray<Record<string, readonly string[]>>
}

/** Every route of the plugin declares its schema through this, so none goes without a summary and tags. */
export function documented (schema: DocumentedSchema): FastifySchema {
  return schema
}

/**
 * The security requirement of the routes that need an access token (`Authorization: Bearer`). The
 * host declares the `bearerAuth` scheme in its OpenAPI document (docs/openapi.md).
 */
export const BEARER: ReadonlyArray<Record<string, readonly string[]>> = [{ bearerAuth: [] }]

/** What the scope's body parser and validator refuse, on every route that reads a body (all but GET). */
export const BODY_REFUSALS: readonly ErrorCode[] = [
  'FST_LCAUTH_VALIDATION', 'FST_LCAUTH_INVALID_JSON', 'FST_LCAUTH_BAD_REQUEST', 'FST_LCAUTH_BODY_TOO_LARGE', 'FST_LCAUTH_UNSUPPORTED_MEDIA_TYPE'
]

/** The onRequest guards of the browser-facing routes: the cross-site check, then the ban check and a limiter. */
export const GUARD_REFUSALS: readonly ErrorCode[] = ['FST_LCAUTH_CROSS_SITE', 'FST_LCAUTH_BANNED', 'FST_LCAUTH_RATE_LIMITED']

/** Routes behind `authenticate` and the ban check alone. */
export const TOKEN_REFUSALS: readonly ErrorCode[] = ['FST_LCAUTH_UNAUTHORIZED', 'FST_LCAUTH_BANNED']

/** Errors that come with a `Retry-After` header (the error handler and the guards set it). */
const RETRY_AFTER: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['FST_LCAUTH_RATE_LIMITED', 'FST_LCAUTH_BANNED', 'FST_LCAUTH_BUSY'])

const statusOf = new Map(errorCodes.map(({ code, statusCode }) => [code, statusCode]))

/**
 * Response schemas, by status, for the errors a route can give: `codes` (lists or single codes) plus
 * FST_LCAUTH_INTERNAL, which any route may answer. Each is Fastify's error shape with the possible
 * codes listed; its fields are exactly what the error handler sends, so serializing through it changes
 * nothing.
 */
export function errorResponses (...codes: Array<ErrorCode | readonly ErrorCode[]>): Record<string, Schema> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of new Set([...codes.flat(), 'FST_LCAUTH_INTERNAL' as const])) {
    const status = statusOf.get(code) as number
    byStatus.set(status, [...byStatus.get(status) ?? [], code])
  }
  return Object.fromEntries([...byStatus].map(([status, list]) => [String(status), errorResponse(status, list)]))
}

function errorResponse (status: number, codes: readonly ErrorCode[]): Schema {
  const retry = codes.filter(code => RETRY_AFTER.has(code))
  return {
    description: `${STATUS_CODES[status] as string}: ${codes.join(', ')}`,
    type: 'object',
    additionalProperties: false,
    required: ['statusCode', 'code', 'error', 'message'],
    properties: {
      statusCode: { type: 'integer', enum: [status] },
      code: { type: 'string', enum: codes },
      error: { type: 'string' },
      message: { type: 'string', description: 'What a client may show.' }
    },
    ...(retry.length === 0
      ? {}
      : { headers: { 'retry-after': { type: 'integer', minimum: 1, description: `Seconds to wait before trying again (${retry.join(', ')})` } } })
  }
}
