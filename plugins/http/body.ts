import { Ajv } from 'ajv'
import type { FastifyRequest } from 'fastify'
import { errors } from '../../lib/errors.ts'

// Bodies that may be absent cannot use Fastify's body schema (it rejects a missing body), so these
// routes check them here, with the same strictness: unknown fields refused, no coercion.
const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, strict: true })

/** preValidation: no body at all, or a JSON object `schema` accepts. */
export function optionalBody (schema: Readonly<Record<string, unknown>>): (request: FastifyRequest) => Promise<void> {
  const validate = ajv.compile(schema)
  return async (request) => {
    if (request.body === undefined || validate(request.body)) return
    throw new errors.FST_LCAUTH_VALIDATION(ajv.errorsText(validate.errors, { dataVar: 'body' }))
  }
}

/** preValidation for refresh and logout: nothing, or an empty JSON object. */
export const noBody: (request: FastifyRequest) => Promise<void> = optionalBody({ type: 'object', additionalProperties: false, maxProperties: 0 })
