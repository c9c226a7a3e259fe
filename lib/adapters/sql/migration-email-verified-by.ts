import { sql, type Kysely, type Migration } from 'kysely'
import type { SqlDialect } from './context.ts'

/**
 * Migration 0004 (`0004_email_verified_by`).
 * `lcauth_users.email_verified_by`: who vouched for the email (the port's `EmailVerifier`), null while
 * unverified. Linking a provider identity by email trusts only some sources, so the source is kept.
 * Emails verified before this migration get `legacy`: nobody knows any more how they were verified.
 * No CHECK on the values: SQLite can only change one by rebuilding the table, and the list may grow.
 */
export function emailVerifiedBy (dialect: SqlDialect): Migration {
  return {
    async up (db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('lcauth_users').addColumn('email_verified_by', 'text').execute()
      // A flag is a boolean on PostgreSQL and 0/1 on SQLite.
      const verified = dialect === 'postgres' ? sql`email_verified` : sql`email_verified = 1`
      await sql`update lcauth_users set email_verified_by = 'legacy' where ${verified}`.execute(db)
    }
  }
}
