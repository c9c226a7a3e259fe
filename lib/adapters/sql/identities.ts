import type { IdentityStore } from '../../ports/storage.ts'
import type { SqlContext } from './context.ts'
import { toIdentity } from './rows.ts'

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
    }
  }
}
