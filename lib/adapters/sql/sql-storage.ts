import type { Kysely } from 'kysely'
import type { BanStore } from '../../ports/ban-store.ts'
import type { Storage } from '../../ports/storage.ts'
import { sqlBanStore } from './ban-store.ts'
import { sqlContext, type SqlDialect } from './context.ts'
import { guarded } from './errors.ts'
import { sqlIdentityStore } from './identities.ts'
import { migrateToLatest } from './migrations.ts'
import { sqlOneTimeTokenStore } from './one-time-tokens.ts'
import type { Database } from './schema.ts'
import { sqlSessionStore } from './sessions.ts'
import { sqlUserStore } from './users.ts'

export interface SqlStorageOptions {
  dialect: SqlDialect
  /** The storage's `kind`, for logs. */
  kind: string
  /** Whether `init()` applies pending migrations. */
  migrate: boolean
  /** A database to migrate through instead of `db` (one without the requests' timeouts), destroyed after. */
  migrationDb?: () => Kysely<Database>
  /** PostgreSQL: the schema the connections' search_path selects, created by `init()` when missing. */
  schema?: string
  /** Releases the database (called once, however often `close()` is). */
  close: () => Promise<void>
}

/**
 * The Storage port on a Kysely database, for either dialect (`sqliteStorage()` and `postgresStorage()`
 * build the database). Every operation is one statement, or one short transaction of statements only;
 * errors that mean the database is unavailable reject with FST_LCAUTH_STORAGE_UNAVAILABLE.
 */
export function sqlStorage (db: Kysely<Database>, options: SqlStorageOptions): Storage {
  const ctx = sqlContext(db, options.dialect)
  const lifecycle = guarded({
    async init (): Promise<void> {
      if (!options.migrate) return
      const target = options.migrationDb?.() ?? db
      try {
        await migrateToLatest(target, options.dialect, options.schema)
      } finally {
        if (target !== db) await target.destroy()
      }
    }
  })
  // SQL has no push channel (bans are polled): without `watch`, every member is async and guardable.
  const bans: BanStore = guarded<Omit<BanStore, 'watch'>>(sqlBanStore(ctx))
  let closing: Promise<void> | undefined
  return {
    kind: options.kind,
    users: guarded(sqlUserStore(ctx)),
    identities: guarded(sqlIdentityStore(ctx)),
    sessions: guarded(sqlSessionStore(ctx)),
    oneTimeTokens: guarded(sqlOneTimeTokenStore(ctx)),
    banStore: () => bans,
    init: lifecycle.init,
    close: () => (closing ??= options.close())
  }
}
