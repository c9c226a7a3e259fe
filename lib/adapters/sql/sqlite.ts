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
 * machine: the server and the CLI. The file is not opened until the first call (`init()`); the native
 * addon is loaded at once, so a missing or mismatched build fails here, where the storage is chosen.
 */
export function sqliteStorage (options: SqliteStorageOptions): Storage {
  new BetterSqlite3(':memory:').close()
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
  walMode(database, busyTimeoutMs)
  database.pragma('synchronous = NORMAL')
  database.pragma('foreign_keys = ON')
  return database
}

/**
 * Switching a fresh file to WAL needs a moment alone with it, and SQLite answers SQLITE_BUSY at once,
 * without its busy timeout, when other processes open the same new file together: retry briefly,
 * within the busy timeout. (A file already in WAL mode stays so: this is a no-op then.)
 */
function walMode (database: BetterSqlite3.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs
  for (;;) {
    try {
      database.pragma('journal_mode = WAL')
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error
      // A short synchronous pause: this runs once per connection, while the database is being opened.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
}
