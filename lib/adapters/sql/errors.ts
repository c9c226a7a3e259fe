import { errors } from '../../errors.ts'

// Which driver errors mean "the database cannot serve us right now" (answer 503 and let the client
// retry) rather than a bug or a constraint: those become FST_LCAUTH_STORAGE_UNAVAILABLE.

/** Node's network errors, as pg reports a server it cannot reach. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), class 53 (insufficient resources: too many
 * connections, disk full, out of memory), 57P01–57P05 (the server shutting down, restarting or
 * dropping the database; the session timing out) and 57014 (our statement_timeout cancelled a query).
 */
const SQLSTATE = /^(?:08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[0-9]|57014)$/

/** better-sqlite3 codes (extended codes such as SQLITE_BUSY_SNAPSHOT or SQLITE_IOERR_WRITE included). */
const SQLITE = /^SQLITE_(?:BUSY|LOCKED|IOERR|CANTOPEN|FULL)(?:_[A-Z_]+)?$/

/** pg and pg-pool errors that carry no code. */
const PG_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'Connection terminated unexpectedly',
  'Query read timeout'
]

/** True when `error` says the database is unreachable, overloaded or busy (also inside an AggregateError). */
export function isUnavailable (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message, errors: inner } = error as { code?: unknown, message?: unknown, errors?: unknown }
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code) || SQLITE.test(code))) return true
  if (typeof message === 'string' && PG_MESSAGES.some(known => message.startsWith(known))) return true
  return Array.isArray(inner) && inner.some(isUnavailable)
}

/** `error` itself, or FST_LCAUTH_STORAGE_UNAVAILABLE with `error` as its cause when the database is unavailable. */
export function storageError (error: unknown): unknown {
  if (!isUnavailable(error)) return error
  const unavailable = new errors.FST_LCAUTH_STORAGE_UNAVAILABLE()
  unavailable.cause = error
  return unavailable
}

/** What `guarded` accepts: methods that return promises (a guarded call is always async); other properties as they are. */
type Guardable<T> = {
  [K in keyof T]: T[K] extends ((...args: never[]) => unknown) | undefined ? ((...args: never[]) => Promise<unknown>) | undefined : T[K]
}

/** A copy of `store` whose methods rethrow unavailability errors as FST_LCAUTH_STORAGE_UNAVAILABLE; other properties (a `kind`) are copied. */
export function guarded<T extends Guardable<T>> (store: T): T {
  const wrapped: Partial<T> = {}
  for (const key of Object.keys(store) as Array<keyof T>) {
    const method = store[key]
    if (typeof method !== 'function') {
      wrapped[key] = method
      continue
    }
    const guard = async (...args: never[]): Promise<unknown> => {
      try {
        return await (method as (...args: never[]) => Promise<unknown>).apply(store, args)
      } catch (error) {
        throw storageError(error)
      }
    }
    wrapped[key] = guard as T[keyof T]
  }
  return wrapped as T
}
