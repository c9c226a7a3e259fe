import { Migrator, sql, type CreateTableBuilder, type Kysely, type Migration, type MigrationResultSet } from 'kysely'
import type { SqlDialect } from './context.ts'
import { emailVerifiedBy } from './migration-email-verified-by.ts'
import { revocationFeed } from './migration-revocation-feed.ts'
import { isUnavailable } from './errors.ts'
import type { Database } from './schema.ts'

/** Kysely's bookkeeping tables, named like ours so they sit together and never clash with the host's. */
export const MIGRATION_TABLE = 'lcauth_migrations'
export const MIGRATION_LOCK_TABLE = 'lcauth_migrations_lock'

/** Every migration, in the order they run. Names are forever: add new ones at the end; never rename or edit one that shipped. */
export function migrations (dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_moderation': moderation(dialect),
    '0003_revocation_feed': revocationFeed(dialect),
    '0004_email_verified_by': emailVerifiedBy(dialect)
  }
}

/**
 * Users, identities, sessions and one-time tokens. Times are `timestamptz` on PostgreSQL and epoch
 * milliseconds on SQLite; flags `boolean` and 0/1. Sessions carry no foreign key: their rows outlive
 * a deleted user (revoked) so every revocation mirror sees them. Ties between equal creation times
 * are broken by insertion order: SQLite's `rowid`, a `seq` column on PostgreSQL.
 */
function initial (dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres'
  const time = pg ? 'timestamptz' : 'integer'
  const flag = pg ? 'boolean' : 'integer'
  return {
    async up (db: Kysely<unknown>): Promise<void> {
      // On SQLite, STRICT tables refuse a value of the wrong type instead of storing it.
      const table = (name: string): CreateTableBuilder<string> => {
        const create = db.schema.createTable(name)
        return pg ? create : create.modifyEnd(sql`strict`)
      }
      // PostgreSQL has no rowid: number the rows of the tables listed in insertion order.
      const insertionOrder = async (name: string): Promise<void> => {
        if (pg) await db.schema.alterTable(name).addColumn('seq', 'bigserial', col => col.notNull()).execute()
      }

      await table('lcauth_users')
        .addColumn('id', 'text', col => col.primaryKey().notNull())
        .addColumn('email', 'text', col => col.notNull())
        .addColumn('name', 'text', col => col.notNull())
        .addColumn('username', 'text')
        .addColumn('avatar', 'text')
        .addColumn('provider', 'text', col => col.notNull())
        .addColumn('role', 'text', col => col.notNull().check(sql`role in ('USER', 'ADMIN')`))
        .addColumn('email_verified', flag, col => col.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('disabled_at', time)
        .addColumn('created_at', time, col => col.notNull())
        .addColumn('updated_at', time, col => col.notNull())
        .execute()
      await insertionOrder('lcauth_users')
      await db.schema.createIndex('lcauth_users_email_key').unique().on('lcauth_users').column('email').execute()

      await table('lcauth_identities')
        .addColumn('provider', 'text', col => col.notNull())
        .addColumn('issuer', 'text', col => col.notNull())
        .addColumn('subject', 'text', col => col.notNull())
        .addColumn('user_id', 'text', col => col.notNull().references('lcauth_users.id').onDelete('cascade'))
        .addColumn('email', 'text')
        .addColumn('email_verified', flag, col => col.notNull())
        .addColumn('created_at', time, col => col.notNull())
        .addPrimaryKeyConstraint('lcauth_identities_pkey', ['provider', 'issuer', 'subject'])
        .execute()
      await db.schema.createIndex('lcauth_identities_user_id_idx').on('lcauth_identities').column('user_id').execute()

      await table('lcauth_sessions')
        .addColumn('id', 'text', col => col.primaryKey().notNull())
        .addColumn('user_id', 'text', col => col.notNull())
        .addColumn('refresh_token_hash', 'text', col => col.notNull())
        .addColumn('previous_token_hash', 'text')
        .addColumn('rotated_at', time)
        .addColumn('retired_token_hashes', 'text', col => col.notNull().defaultTo('[]'))
        .addColumn('created_at', time, col => col.notNull())
        .addColumn('last_used_at', time, col => col.notNull())
        .addColumn('expires_at', time, col => col.notNull())
        .addColumn('absolute_expires_at', time, col => col.notNull())
        .addColumn('user_agent', 'text')
        .addColumn('ip', 'text')
        .addColumn('revoked_at', time)
        .execute()
      await insertionOrder('lcauth_sessions')
      await db.schema.createIndex('lcauth_sessions_user_id_idx').on('lcauth_sessions').column('user_id').execute()
      await db.schema.createIndex('lcauth_sessions_revoked_at_idx').on('lcauth_sessions').column('revoked_at').execute()
      await db.schema.createIndex('lcauth_sessions_expires_at_idx').on('lcauth_sessions').column('expires_at').execute()

      await table('lcauth_one_time_tokens')
        .addColumn('purpose', 'text', col => col.notNull().check(sql`purpose in ('password_reset', 'email_verification', 'invite')`))
        .addColumn('token_hash', 'text', col => col.notNull())
        .addColumn('user_id', 'text', col => col.references('lcauth_users.id').onDelete('cascade'))
        .addColumn('email', 'text', col => col.notNull())
        .addColumn('expires_at', time, col => col.notNull())
        .addColumn('created_at', time, col => col.notNull())
        .addColumn('consumed_at', time)
        .addPrimaryKeyConstraint('lcauth_one_time_tokens_pkey', ['purpose', 'token_hash'])
        .execute()
      await db.schema.createIndex('lcauth_one_time_tokens_user_id_idx').on('lcauth_one_time_tokens').column('user_id').execute()
      await db.schema.createIndex('lcauth_one_time_tokens_expires_at_idx').on('lcauth_one_time_tokens').column('expires_at').execute()
    }
  }
}

/**
 * The BanStore's tables: bans, violation scores, fixed-window limiter counters and in-flight counters.
 * Same conventions as 0001. Scores are `double precision`/`real`: the port takes any number. Every
 * table is indexed on its expiry, which purge deletes by.
 */
function moderation (dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres'
  const time = pg ? 'timestamptz' : 'integer'
  const real = pg ? 'double precision' : 'real'
  return {
    async up (db: Kysely<unknown>): Promise<void> {
      const table = (name: string): CreateTableBuilder<string> => {
        const create = db.schema.createTable(name)
        return pg ? create : create.modifyEnd(sql`strict`)
      }
      const expiryIndex = async (name: string, column: string): Promise<void> => {
        await db.schema.createIndex(`${name}_${column}_idx`).on(name).column(column).execute()
      }

      await table('lcauth_bans')
        .addColumn('kind', 'text', col => col.notNull().check(sql`kind in ('ip', 'user')`))
        .addColumn('subject', 'text', col => col.notNull())
        .addColumn('reason', 'text', col => col.notNull())
        .addColumn('created_at', time, col => col.notNull())
        .addColumn('expires_at', time, col => col.notNull())
        .addPrimaryKeyConstraint('lcauth_bans_pkey', ['kind', 'subject'])
        .execute()
      await expiryIndex('lcauth_bans', 'expires_at')

      await table('lcauth_violation_scores')
        .addColumn('kind', 'text', col => col.notNull().check(sql`kind in ('ip', 'user')`))
        .addColumn('subject', 'text', col => col.notNull())
        .addColumn('type', 'text', col => col.notNull())
        .addColumn('total', real, col => col.notNull())
        .addColumn('expires_at', time, col => col.notNull())
        .addPrimaryKeyConstraint('lcauth_violation_scores_pkey', ['kind', 'subject', 'type'])
        .execute()
      await expiryIndex('lcauth_violation_scores', 'expires_at')

      await table('lcauth_limiter_windows')
        .addColumn('key', 'text', col => col.primaryKey().notNull())
        .addColumn('count', 'integer', col => col.notNull())
        .addColumn('reset_at', time, col => col.notNull())
        .execute()
      await expiryIndex('lcauth_limiter_windows', 'reset_at')

      await table('lcauth_in_flight')
        .addColumn('key', 'text', col => col.primaryKey().notNull())
        .addColumn('count', 'integer', col => col.notNull().check(sql`count >= 0`))
        .addColumn('expires_at', time, col => col.notNull())
        .execute()
      await expiryIndex('lcauth_in_flight', 'expires_at')
    }
  }
}

/**
 * Applies the pending migrations and returns their names (empty when the schema is current). Safe to
 * run from several processes at once: on PostgreSQL Kysely holds an advisory lock, on SQLite the
 * whole run is one `BEGIN IMMEDIATE` transaction. Throws a clear error (the driver's as `cause`) on
 * failure; an unavailable database throws the driver's error itself, for the storage to classify.
 * On PostgreSQL, `schema` (created when missing) must be the one the connections' search_path puts
 * first; without it, the connection's current schema.
 */
export async function migrateToLatest (db: Kysely<Database>, dialect: SqlDialect, schema?: string): Promise<string[]> {
  if (dialect === 'sqlite') {
    return db.connection().execute(connection => writeTransaction(connection, () => run(connection, dialect, undefined)))
  }
  return run(db, dialect, schema ?? await currentSchema(db))
}

async function run (db: Kysely<Database>, dialect: SqlDialect, schema: string | undefined): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Kysely looks for its tables in every schema unless told which one: name ours explicitly.
    ...(schema === undefined ? {} : { migrationTableSchema: schema })
  })
  return outcome(await migrator.migrateToLatest(), dialect)
}

function outcome ({ error, results }: MigrationResultSet, dialect: SqlDialect): string[] {
  // Kysely gives the results whenever there is no error.
  if (error === undefined && results !== undefined) return results.map(result => result.migrationName)
  if (isUnavailable(error)) throw error
  const failed = results?.find(result => result.status === 'Error')?.migrationName
  throw new Error(`librechat-auth could not migrate the ${dialect} database${failed === undefined ? '' : ` (migration ${failed})`}: ${String(error)}`, { cause: error })
}

/** The schema PostgreSQL creates tables in: the first existing one on the connection's search_path. */
async function currentSchema (db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)
  const schema = rows[0]?.schema
  if (typeof schema !== 'string') throw new Error('librechat-auth could not migrate the postgres database: no schema on the search_path exists (set the `schema` option)')
  return schema
}

/** Runs `body` on one SQLite connection inside `BEGIN IMMEDIATE`: other processes' writers wait (busy_timeout) until it commits. */
async function writeTransaction<T> (connection: Kysely<Database>, body: () => Promise<T>): Promise<T> {
  await sql`begin immediate`.execute(connection)
  try {
    const result = await body()
    await sql`commit`.execute(connection)
    return result
  } catch (error) {
    await sql`rollback`.execute(connection)
    throw error
  }
}
