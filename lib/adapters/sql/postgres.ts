import { CompiledQuery, Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { integer } from '../../options/validate.ts'
import type { Storage } from '../../ports/storage.ts'
import type { Database } from './schema.ts'
import { sqlStorage } from './sql-storage.ts'

export interface PostgresStorageOptions {
  /** `postgres://user:password@host:port/database` (any libpq-style parameters pg accepts). */
  connectionString: string
  /** The schema for the tables (created by `init()` when missing); default: the connection's current schema. */
  schema?: string
  /** Apply pending migrations in `init()` (default true). */
  migrate?: boolean
  pool?: { max?: number }
  /**
   * How long a call may wait for the database, in ms (default 3000, 100 to 60000): getting a
   * connection (connecting, or waiting for a free one in the pool), and each statement, which the
   * server cancels past it (`statement_timeout`). Calls then fail with FST_LCAUTH_STORAGE_UNAVAILABLE.
   */
  timeoutMs?: number
}

/**
 * The server cancels a statement (`statement_timeout`) this much before the client gives up on it
 * (`query_timeout`, the timeout itself): server first, so a statement the client abandoned never
 * commits afterwards — a rotation committed after the client gave up would turn the user's retry into
 * reuse and end their session. The client's own bound only fires when the server stopped answering.
 */
const serverMargin = (timeoutMs: number): number => Math.min(500, Math.floor(timeoutMs / 4))

/**
 * Migrations run on a connection of their own, without the requests' bounds: building an index on a
 * large table, or waiting for another process's migration, may take longer. The client still gives
 * up on a server that stopped answering after this long (the transaction then rolls back).
 */
const MIGRATION_TIMEOUT_MS = 10 * 60_000

/** Storage in PostgreSQL, shared by any number of app instances. Nothing connects until the first call (`init()`). */
export function postgresStorage (options: PostgresStorageOptions): Storage {
  const timeoutMs = integer(options.timeoutMs, 'timeoutMs', 3000, 100, 60_000)
  const db = kysely(options, {
    connectionTimeoutMillis: timeoutMs,
    // Sent at connection start: the server's own per-connection setting, enforced even if the client is gone.
    statement_timeout: timeoutMs - serverMargin(timeoutMs),
    query_timeout: timeoutMs,
    ...(options.pool?.max === undefined ? {} : { max: options.pool.max })
  })
  return sqlStorage(db, {
    dialect: 'postgres',
    kind: 'postgres',
    migrate: options.migrate ?? true,
    migrationDb: () => kysely(options, { connectionTimeoutMillis: timeoutMs, query_timeout: MIGRATION_TIMEOUT_MS, max: 1 }),
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    close: () => db.destroy()
  })
}

/** A Kysely database on a new pool to the storage's server and schema. */
function kysely (options: PostgresStorageOptions, limits: pg.PoolConfig): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: options.connectionString, application_name: 'librechat-auth', keepAlive: true, ...limits })
  // A connection that dies (server restart, network) rejects the query using it; the 'error' event
  // pg also emits would crash the process without a listener. The pool drops the dead client.
  pool.on('error', ignore)
  pool.on('connect', client => client.on('error', ignore))
  const searchPath = options.schema === undefined ? undefined : CompiledQuery.raw(`set search_path to ${identifier(options.schema)}`)
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      ...(searchPath === undefined ? {} : { onCreateConnection: async connection => { await connection.executeQuery(searchPath) } })
    })
  })
}

function ignore (): void {}

/** A quoted SQL identifier. */
function identifier (name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
