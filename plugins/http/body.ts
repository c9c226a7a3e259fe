import { Ajv } from 'ajv'
import type { FastifyRequest } from 'fastify'
import { errors } from '../../lib/errors.ts'

/**
 * preValidation for a route whose body schema describes an optional body: no body at all is validated,
 * and handled, as `{}`. (Fastify validates a missing body as `null`, which an object schema refuses, so
 * the schema alone cannot say "optional"; a JSON `null` the client sends is still refused.)
 */
export async function absentBodyAsEmpty (request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {}
}

// Refresh and logout take no body: they keep this check out of their schema, so an API description
// does not show them a request body they must not send.
const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, strict: true })
const validateEmpty = ajv.compile({ type: 'object', additionalProperties: false, maxProperties: 0 })

/** preValidation for refresh and logout: nothing, or an empty JSON object. */
export async function noBody (request: FastifyRequest): Promise<void> {
  if (request.body === undefined || validateEmpty(request.body)) return
  throw new errors.FST_LCAUTH_VALIDATION(ajv.errorsText(validateEmpty.errors, { dataVar: 'body' }))
}
