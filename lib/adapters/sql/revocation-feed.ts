import { sql, type NotNull } from 'kysely'
import type { RevocationCursor, RevocationFeed } from '../../ports/storage.ts'
import type { SqlContext } from './context.ts'

/**
 * How far back a PostgreSQL poll looks before its cursor. A revocation's mark is the database's
 * `clock_timestamp()` when its statement updated the row; it becomes visible at its commit, a little
 * later. Every statement is cancelled by `statement_timeout` (at most 60 s, `databaseTimeout`) and
 * the revoking update is the last statement of its transaction, so a mark is never this much older
 * than its commit. Rows listed twice cost nothing: the mirror keeps a set.
 */
export const POSTGRES_FEED_OVERLAP_MS = 120_000

/**
 * `listRevokedSince` of the SQL storage. Each call first reads the feed's head (PostgreSQL: the
 * database's `now()`; SQLite: the revocation counter), then the rows: whatever commits after the
 * head was read has a mark after it (SQLite) or within the overlap before it (PostgreSQL), so the
 * next call, from that head, lists it.
 */
export function sqlRevocationFeed (ctx: SqlContext): (from: Date | RevocationCursor) => Promise<RevocationFeed> {
  const { db, time } = ctx
  const postgres = ctx.dialect === 'postgres'

  const head = async (): Promise<number> => {
    if (postgres) {
      const { rows } = await sql<{ at: Date }>`select now() as at`.execute(db)
      return (rows[0] as { at: Date }).at.getTime()
    }
    const row = await db.selectFrom('lcauth_revocation_counter').select('value').where('id', '=', 1).executeTakeFirstOrThrow()
    return row.value
  }

  return async (from) => {
    const cursor = await head()
    let query = db.selectFrom('lcauth_sessions').select(['id', 'revoked_at']).where('revoked_at', 'is not', null)
    if (typeof from !== 'string') query = query.where('revoked_at', '>=', time(from))
    else if (postgres) query = query.where('revocation_mark', '>=', new Date(Number(from) - POSTGRES_FEED_OVERLAP_MS))
    else query = query.where('revocation_mark', '>', Number(from))
    const rows = await query.$narrowType<{ revoked_at: NotNull }>().execute()
    return { revocations: rows.map(r => ({ id: r.id, revokedAt: new Date(r.revoked_at) })), cursor: String(cursor) as RevocationCursor }
  }
}
