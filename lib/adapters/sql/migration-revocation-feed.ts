import { sql, type Kysely, type Migration } from 'kysely'
import type { SqlDialect } from './context.ts'

/**
 * Migration 0003 (`0003_revocation_feed`).
 * The revocation feed's order, independent of the revokers' clocks (`revoked_at` is the revoker's
 * injected time): `lcauth_sessions.revocation_mark`, set by the database whenever a session's
 * `revoked_at` goes from null to a time — by a trigger, so every writer sets it, an older version of
 * the package during a rolling upgrade and a manual UPDATE included.
 * - PostgreSQL: `clock_timestamp()` when the row is updated, i.e. after the revoking statement got
 *   the row's lock (a BEFORE trigger runs once the row is locked), read against the database's `now()`.
 * - SQLite: the next number of a counter (`lcauth_revocation_counter`, one row). There is one writer at
 *   a time, so numbers are visible in the order they were handed out.
 * Rows revoked before this migration get their `revoked_at` (PostgreSQL) or their rank by `revoked_at`
 * (SQLite): a mirror that started on the new version loads them by `revoked_at`, as before.
 */
export function revocationFeed (dialect: SqlDialect): Migration {
  return {
    async up (db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await db.schema.alterTable('lcauth_sessions').addColumn('revocation_mark', 'timestamptz').execute()
        await sql`update lcauth_sessions set revocation_mark = revoked_at where revoked_at is not null`.execute(db)
        await sql`create function lcauth_sessions_revocation_mark() returns trigger language plpgsql as $$
          begin
            new.revocation_mark := clock_timestamp();
            return new;
          end $$`.execute(db)
        await sql`create trigger lcauth_sessions_revocation_mark before update of revoked_at on lcauth_sessions
          for each row when (old.revoked_at is null and new.revoked_at is not null)
          execute function lcauth_sessions_revocation_mark()`.execute(db)
      } else {
        await db.schema.alterTable('lcauth_sessions').addColumn('revocation_mark', 'integer').execute()
        await db.schema.createTable('lcauth_revocation_counter')
          .addColumn('id', 'integer', col => col.primaryKey().notNull().check(sql`id = 1`))
          .addColumn('value', 'integer', col => col.notNull())
          .modifyEnd(sql`strict`)
          .execute()
        await sql`update lcauth_sessions set revocation_mark = ranked.n
          from (select rowid as r, row_number() over (order by revoked_at, rowid) as n from lcauth_sessions where revoked_at is not null) as ranked
          where lcauth_sessions.rowid = ranked.r`.execute(db)
        await sql`insert into lcauth_revocation_counter (id, value) select 1, count(revoked_at) from lcauth_sessions`.execute(db)
        await sql`create trigger lcauth_sessions_revocation_mark after update of revoked_at on lcauth_sessions
          for each row when old.revoked_at is null and new.revoked_at is not null
          begin
            update lcauth_revocation_counter set value = value + 1 where id = 1;
            update lcauth_sessions set revocation_mark = (select value from lcauth_revocation_counter where id = 1) where rowid = new.rowid;
          end`.execute(db)
      }
      await db.schema.createIndex('lcauth_sessions_revocation_mark_idx').on('lcauth_sessions').column('revocation_mark').execute()
    }
  }
}
