import type { Session, SessionStore } from '../../ports/storage.ts'
import { rotationOf } from '../../sessions/session-state.ts'
import type { SqlContext } from './context.ts'
import { sqlRevocationFeed } from './revocation-feed.ts'
import { toSession } from './rows.ts'

export function sqlSessionStore (ctx: SqlContext): SessionStore {
  const { db, time } = ctx

  async function findById (id: string): Promise<Session | null> {
    const row = await db.selectFrom('lcauth_sessions').selectAll().where('id', '=', id).executeTakeFirst()
    return row === undefined ? null : toSession(row)
  }

  return {
    async create (input) {
      // A duplicate id is a primary-key violation: the store error the port asks for.
      const row = await db.insertInto('lcauth_sessions')
        .values({
          id: input.id,
          user_id: input.userId,
          refresh_token_hash: input.refreshTokenHash,
          previous_token_hash: null,
          rotated_at: null,
          retired_token_hashes: '[]',
          created_at: time(input.createdAt),
          last_used_at: time(input.createdAt),
          expires_at: time(input.expiresAt),
          absolute_expires_at: time(input.absoluteExpiresAt),
          user_agent: input.userAgent,
          ip: input.ip,
          revoked_at: null
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toSession(row)
    },
    findById,
    async rotate (id, expectedHash, next) {
      const current = await findById(id)
      if (current === null || current.refreshTokenHash !== expectedHash) return null
      const rotated = rotationOf(current, next)
      // The compare-and-swap: the row changes only if the random hash read above is still current
      // and the session is still live, so of concurrent rotations exactly one matches.
      const row = await db.updateTable('lcauth_sessions')
        .set({
          refresh_token_hash: rotated.refreshTokenHash,
          previous_token_hash: rotated.previousTokenHash,
          retired_token_hashes: JSON.stringify(rotated.retiredTokenHashes),
          rotated_at: time(next.at),
          last_used_at: time(next.at),
          expires_at: time(rotated.expiresAt),
          user_agent: rotated.userAgent,
          ip: rotated.ip
        })
        .where('id', '=', id)
        .where('refresh_token_hash', '=', expectedHash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', time(next.at))
        .where('absolute_expires_at', '>', time(next.at))
        .returningAll()
        .executeTakeFirst()
      return row === undefined ? null : toSession(row)
    },
    async revoke (id, at) {
      const row = await db.updateTable('lcauth_sessions')
        .set({ revoked_at: time(at) })
        .where('id', '=', id).where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst()
      return row !== undefined
    },
    async revokeAllForUser (userId, at, exceptId) {
      let query = db.updateTable('lcauth_sessions')
        .set({ revoked_at: time(at) })
        .where('user_id', '=', userId).where('revoked_at', 'is', null)
      if (exceptId !== undefined) query = query.where('id', '<>', exceptId)
      const rows = await query.returning('id').execute()
      return rows.map(r => r.id)
    },
    async listLiveByUser (userId, now) {
      const rows = await db.selectFrom('lcauth_sessions').selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', time(now))
        .where('absolute_expires_at', '>', time(now))
        .orderBy('created_at', 'desc').orderBy(ctx.insertionOrder, 'desc')
        .execute()
      return rows.map(toSession)
    },
    listRevokedSince: sqlRevocationFeed(ctx),
    async purge (before) {
      // A session ended when it was revoked, or else when the first of its two expiries passed.
      const cut = time(before)
      const result = await db.deleteFrom('lcauth_sessions')
        .where(eb => eb.or([
          eb('revoked_at', '<', cut),
          eb.and([eb('revoked_at', 'is', null), eb.or([eb('expires_at', '<', cut), eb('absolute_expires_at', '<', cut)])])
        ]))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}
