import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { Storage } from '../../ports/storage.ts'
import type { Database } from './schema.ts'
import { sqlStorage } from './sql-storage.ts'

export interface SqliteStorageOptions {
  /** The database file; its directory is created when missing. */
  filename: string
  /** Apply pending migrations in `init()` (default true). */
  migrate?: boolean
  /** How long a write waits for another connection's (or process's) write to finish, in ms (default 5000). */
  busyTimeoutMs?: number
}

/**
 * Storage in one SQLite file (better-sqlite3, WAL mode), shareable by several processes on one
 * machine: the server and the CLI. Nothing is opened until the first call (`init()`).
 */
export function sqliteStorage (options: SqliteStorageOptions): Storage {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: async () => open(options.filename, busyTimeoutMs) })
  })
  return sqlStorage(db, { dialect: 'sqlite', kind: 'sqlite', migrate: options.migrate ?? true, close: () => db.destroy() })
}

function open (filename: string, busyTimeoutMs: number): BetterSqlite3.Database {
  mkdirSync(dirname(filename), { recursive: true })
  const database = new BetterSqlite3(filename, { timeout: busyTimeoutMs })
  // WAL lets readers run beside the one writer; NORMAL is durable across process crashes in WAL
  // mode (only a power loss can drop the last commits); foreign keys are off unless asked for.
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.pragma('foreign_keys = ON')
  return database
}
