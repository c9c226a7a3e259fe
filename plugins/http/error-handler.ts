import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../../lib/errors.ts'
import { ProviderFailure } from '../../lib/identities/provider-profile.ts'

/** Fastify's error shape: what every error response of the plugin looks like. */
export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
}

// Fastify's own early errors (before a handler runs) and what we answer instead.
const early: Record<string, () => Mapped> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new errors.FST_LCAUTH_UNSUPPORTED_MEDIA_TYPE(),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new errors.FST_LCAUTH_BAD_REQUEST(),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new errors.FST_LCAUTH_BODY_TOO_LARGE(),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new errors.FST_LCAUTH_INVALID_JSON()
}

/**
 * The plugin scope's error handler: our own errors go out as they are; Fastify's early errors and
 * validation errors become FST_LCAUTH_* codes; anything unexpected is logged and answered with a
 * generic 500 that carries no detail.
 */
export function authErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): ErrorBody {
  const mapped = mapError(error)
  const { statusCode } = mapped
  if (statusCode >= 500 && statusCode !== 503) request.log.error({ err: error }, 'librechat-auth request failed')
  const retryAfter = (mapped as { retryAfterSeconds?: unknown }).retryAfterSeconds
  if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter))
  void reply.code(statusCode)
  return { statusCode, code: mapped.code, error: STATUS_CODES[statusCode] as string, message: mapped.message }
}

type Mapped = FastifyError & { statusCode: number }

function mapError (error: FastifyError): Mapped {
  if (error.code?.startsWith('FST_LCAUTH_') && typeof error.statusCode === 'number') return error as Mapped
  if (error.validation) return new errors.FST_LCAUTH_VALIDATION(error.message)
  // A sign-in provider that cannot be reached (an OpenID issuer down while a link starts).
  if (error instanceof ProviderFailure) return new errors.FST_LCAUTH_PROVIDER_UNAVAILABLE()
  const known = early[error.code]
  if (known) return known()
  // JSON.parse failures and prototype-poisoning refusals from the body parser.
  if (error instanceof SyntaxError || error.statusCode === 400) return new errors.FST_LCAUTH_INVALID_JSON()
  if (error.statusCode !== undefined && error.statusCode > 400 && error.statusCode < 500) return new errors.FST_LCAUTH_BAD_REQUEST()
  return new errors.FST_LCAUTH_INTERNAL()
}
