import { CompiledQuery, Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
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
}

/** Connecting gives up after this long, so an unreachable server fails fast instead of hanging. */
const CONNECTION_TIMEOUT_MS = 5000
/** The server cancels any statement running longer (SQLSTATE 57014). */
const STATEMENT_TIMEOUT_MS = 10_000
/** The client gives up on a server that stopped answering. */
const QUERY_TIMEOUT_MS = 15_000

/** Storage in PostgreSQL, shared by any number of app instances. Nothing connects until the first call (`init()`). */
export function postgresStorage (options: PostgresStorageOptions): Storage {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    application_name: 'librechat-auth',
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
    ...(options.pool?.max === undefined ? {} : { max: options.pool.max })
  })
  // A connection that dies (server restart, network) rejects the query using it; the 'error' event
  // pg also emits would crash the process without a listener. The pool drops the dead client.
  pool.on('error', ignore)
  pool.on('connect', client => client.on('error', ignore))
  const searchPath = options.schema === undefined ? undefined : CompiledQuery.raw(`set search_path to ${identifier(options.schema)}`)
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      ...(searchPath === undefined ? {} : { onCreateConnection: async connection => { await connection.executeQuery(searchPath) } })
    })
  })
  return sqlStorage(db, {
    dialect: 'postgres',
    kind: 'postgres',
    migrate: options.migrate ?? true,
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    close: () => db.destroy()
  })
}

function ignore (): void {}

/** A quoted SQL identifier. */
function identifier (name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
