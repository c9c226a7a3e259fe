import type { OneTimeTokenStore } from '../../ports/storage.ts'
import type { SqlContext } from './context.ts'
import { toToken } from './rows.ts'

export function sqlOneTimeTokenStore (ctx: SqlContext): OneTimeTokenStore {
  const { db, time } = ctx

  return {
    async create (input) {
      // (purpose, token_hash) is the primary key; hashes are random, so a duplicate is a store error.
      const row = await db.insertInto('lcauth_one_time_tokens')
        .values({
          purpose: input.purpose,
          token_hash: input.tokenHash,
          user_id: input.userId,
          email: input.email,
          expires_at: time(input.expiresAt),
          created_at: time(input.createdAt),
          consumed_at: null
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toToken(row)
    },
    async consume (purpose, tokenHash, now) {
      // One conditional UPDATE: of concurrent consumers only the first still finds consumed_at null.
      const row = await db.updateTable('lcauth_one_time_tokens')
        .set({ consumed_at: time(now) })
        .where('purpose', '=', purpose).where('token_hash', '=', tokenHash)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', time(now))
        .returningAll()
        .executeTakeFirst()
      return row === undefined ? null : toToken(row)
    },
    async deleteForUser (userId, purpose) {
      let query = db.deleteFrom('lcauth_one_time_tokens').where('user_id', '=', userId)
      if (purpose !== undefined) query = query.where('purpose', '=', purpose)
      const result = await query.executeTakeFirst()
      return Number(result.numDeletedRows)
    },
    async purge (before) {
      const cut = time(before)
      const result = await db.deleteFrom('lcauth_one_time_tokens')
        .where(eb => eb.or([eb('expires_at', '<', cut), eb('consumed_at', '<', cut)]))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}
