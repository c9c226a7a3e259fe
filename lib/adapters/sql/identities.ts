import type { IdentityKey, IdentityStore } from '../../ports/storage.ts'
import type { SqlContext } from './context.ts'
import { toIdentity } from './rows.ts'

/** Just the key's three columns: `eb.and` makes a condition of every property, and callers may pass a whole Identity. */
const keyOf = ({ provider, issuer, subject }: IdentityKey): IdentityKey => ({ provider, issuer, subject })

export function sqlIdentityStore (ctx: SqlContext): IdentityStore {
  const { db } = ctx

  return {
    async create (identity) {
      // (provider, issuer, subject) is the primary key: a taken triple inserts nothing and returns no row.
      const row = await db.insertInto('lcauth_identities')
        .values({
          provider: identity.provider,
          issuer: identity.issuer,
          subject: identity.subject,
          user_id: identity.userId,
          email: identity.email,
          email_verified: ctx.flag(identity.emailVerified),
          created_at: ctx.time(identity.createdAt)
        })
        .onConflict(oc => oc.doNothing())
        .returningAll()
        .executeTakeFirst()
      return row === undefined ? null : toIdentity(row)
    },
    async find (provider, issuer, subject) {
      const row = await db.selectFrom('lcauth_identities').selectAll()
        .where('provider', '=', provider).where('issuer', '=', issuer).where('subject', '=', subject)
        .executeTakeFirst()
      return row === undefined ? null : toIdentity(row)
    },
    async listByUser (userId) {
      const rows = await db.selectFrom('lcauth_identities').selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'asc')
        .execute()
      return rows.map(toIdentity)
    },
    async update (key, patch) {
      const row = await db.updateTable('lcauth_identities')
        .set({ email: patch.email, email_verified: ctx.flag(patch.emailVerified) })
        .where(eb => eb.and(keyOf(key)))
        .returningAll()
        .executeTakeFirst()
      return row === undefined ? null : toIdentity(row)
    },
    async delete (key) {
      const { numDeletedRows } = await db.deleteFrom('lcauth_identities').where(eb => eb.and(keyOf(key))).executeTakeFirstOrThrow()
      return numDeletedRows > 0n
    },
    async deleteUnverifiedForUser (userId) {
      // One statement; RETURNING has no order of its own, hence the sort.
      const rows = await db.deleteFrom('lcauth_identities')
        .where('user_id', '=', userId).where('email_verified', '=', ctx.flag(false))
        .returningAll()
        .execute()
      return rows.map(toIdentity).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    }
  }
}
