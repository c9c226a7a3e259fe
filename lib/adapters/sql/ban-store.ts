import type { Ban, BanStore, WindowCount } from '../../ports/ban-store.ts'
import type { SqlContext } from './context.ts'
import type { BansTable } from './schema.ts'

// Every counter is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING: the database serialises
// writers on the row, so concurrent processes never lose a count (no read-then-write anywhere).
// In DO UPDATE the qualified table name is the stored row and `excluded` the one proposed; each
// CASE asks whether the stored row is still live at `now`, else the proposed row starts afresh.

const toBan = (row: BansTable): Ban => ({
  subject: { kind: row.kind, id: row.subject },
  reason: row.reason,
  createdAt: new Date(row.created_at),
  expiresAt: new Date(row.expires_at)
})

/** Bans, scores and counters in the SQL storage's database, shared by every process using it. */
export function sqlBanStore (ctx: SqlContext): BanStore {
  const { db, time } = ctx
  const later = (now: Date, ms: number): Date => new Date(now.getTime() + ms)

  return {
    kind: ctx.dialect,
    async find (subject, now) {
      const row = await db.selectFrom('lcauth_bans').selectAll()
        .where('kind', '=', subject.kind).where('subject', '=', subject.id)
        .where('expires_at', '>', time(now))
        .executeTakeFirst()
      return row === undefined ? null : toBan(row)
    },
    async put (ban) {
      await db.insertInto('lcauth_bans')
        .values({
          kind: ban.subject.kind,
          subject: ban.subject.id,
          reason: ban.reason,
          created_at: time(ban.createdAt),
          expires_at: time(ban.expiresAt)
        })
        .onConflict(oc => oc.columns(['kind', 'subject']).doUpdateSet(eb => ({
          reason: eb.ref('excluded.reason'),
          created_at: eb.ref('excluded.created_at'),
          expires_at: eb.ref('excluded.expires_at')
        })))
        .execute()
    },
    async lift (subject) {
      const result = await db.deleteFrom('lcauth_bans')
        .where('kind', '=', subject.kind).where('subject', '=', subject.id)
        .executeTakeFirst()
      return result.numDeletedRows > 0n
    },
    async list (now) {
      const rows = await db.selectFrom('lcauth_bans').selectAll()
        .where('expires_at', '>', time(now))
        .orderBy('kind').orderBy('subject')
        .execute()
      return rows.map(toBan)
    },
    async addViolation (subject, type, score, ttlMs, now) {
      const row = await db.insertInto('lcauth_violation_scores')
        .values({ kind: subject.kind, subject: subject.id, type, total: score, expires_at: time(later(now, ttlMs)) })
        .onConflict(oc => oc.columns(['kind', 'subject', 'type']).doUpdateSet(eb => ({
          total: eb.case()
            .when('lcauth_violation_scores.expires_at', '>', time(now))
            .then(eb('lcauth_violation_scores.total', '+', eb.ref('excluded.total')))
            .else(eb.ref('excluded.total'))
            .end(),
          expires_at: eb.ref('excluded.expires_at')
        })))
        .returning('total')
        .executeTakeFirstOrThrow()
      return row.total
    },
    async hit (key, windowMs, now, amount = 1): Promise<WindowCount> {
      // Both CASEs read the stored row as it was before this update, so they agree on "live".
      const row = await db.insertInto('lcauth_limiter_windows')
        .values({ key, count: amount, reset_at: time(later(now, windowMs)) })
        .onConflict(oc => oc.column('key').doUpdateSet(eb => {
          const live = eb('lcauth_limiter_windows.reset_at', '>', time(now))
          return {
            count: eb.case().when(live).then(eb('lcauth_limiter_windows.count', '+', amount)).else(amount).end(),
            reset_at: eb.case().when(live).then(eb.ref('lcauth_limiter_windows.reset_at')).else(eb.ref('excluded.reset_at')).end()
          }
        }))
        .returning(['count', 'reset_at'])
        .executeTakeFirstOrThrow()
      return { count: row.count, resetAt: new Date(row.reset_at) }
    },
    async peek (key, now): Promise<WindowCount> {
      const row = await db.selectFrom('lcauth_limiter_windows').select(['count', 'reset_at'])
        .where('key', '=', key).where('reset_at', '>', time(now))
        .executeTakeFirst()
      return row === undefined ? { count: 0, resetAt: new Date(now) } : { count: row.count, resetAt: new Date(row.reset_at) }
    },
    async acquire (key, ttlMs, now) {
      const row = await db.insertInto('lcauth_in_flight')
        .values({ key, count: 1, expires_at: time(later(now, ttlMs)) })
        .onConflict(oc => oc.column('key').doUpdateSet(eb => ({
          count: eb.case()
            .when('lcauth_in_flight.expires_at', '>', time(now))
            .then(eb('lcauth_in_flight.count', '+', 1))
            .else(1)
            .end(),
          expires_at: eb.ref('excluded.expires_at')
        })))
        .returning('count')
        .executeTakeFirstOrThrow()
      return row.count
    },
    async release (key, now) {
      // A counter at zero stays until purge: the next acquire counts from it as from nothing.
      await db.updateTable('lcauth_in_flight')
        .set(eb => ({ count: eb('count', '-', 1) }))
        .where('key', '=', key).where('count', '>', 0).where('expires_at', '>', time(now))
        .execute()
    },
    async purge (now) {
      const cut = time(now)
      const results = await Promise.all([
        db.deleteFrom('lcauth_bans').where('expires_at', '<=', cut).executeTakeFirst(),
        db.deleteFrom('lcauth_violation_scores').where('expires_at', '<=', cut).executeTakeFirst(),
        db.deleteFrom('lcauth_limiter_windows').where('reset_at', '<=', cut).executeTakeFirst(),
        db.deleteFrom('lcauth_in_flight').where('expires_at', '<=', cut).executeTakeFirst()
      ])
      return results.reduce((sum, result) => sum + Number(result.numDeletedRows), 0)
    },
    async close () {
      // The storage owns the database and closes it; this store holds nothing of its own.
    }
  }
}
