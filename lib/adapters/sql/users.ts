import { sql, type Kysely } from 'kysely'
import { randomId } from '../../crypto/random.ts'
import type { NewUser, Role, User, UserPatch, UserStore } from '../../ports/storage.ts'
import type { SqlContext } from './context.ts'
import { toUser } from './rows.ts'
import type { Database, UsersTable } from './schema.ts'

/**
 * Key of the PostgreSQL advisory lock that serialises creations on an empty users table
 * ('lcauth' in ASCII), so that of concurrent first creations exactly one sees no user.
 */
const FIRST_USER_LOCK = 0x6c6361757468

export function sqlUserStore (ctx: SqlContext): UserStore {
  const { db, time, flag } = ctx

  /**
   * One INSERT that decides the role itself when none is given (ADMIN on an empty table) and
   * returns null when the email or id is taken. SQLite runs it atomically (writers are serialised
   * and the statement holds the write lock from its start); PostgreSQL needs `insertFirstUser`.
   */
  async function insert (into: Kysely<Database>, input: NewUser, now: Date): Promise<User | null> {
    const row = await into.insertInto('lcauth_users')
      .values(eb => ({
        id: input.id ?? randomId(),
        email: input.email,
        name: input.name,
        username: input.username,
        avatar: input.avatar ?? null,
        provider: input.provider,
        role: input.role ?? eb.case()
          .when(eb.exists(eb.selectFrom('lcauth_users').select(eb.lit(1).as('one'))))
          .then(eb.val<Role>('USER'))
          .else(eb.val<Role>('ADMIN'))
          .end(),
        email_verified: flag(input.emailVerified),
        email_verified_by: input.emailVerifiedBy ?? null,
        password_hash: input.passwordHash,
        disabled_at: null,
        created_at: time(now),
        updated_at: time(now)
      }))
      .onConflict(oc => oc.doNothing())
      .returningAll()
      .executeTakeFirst()
    return row === undefined ? null : toUser(row)
  }

  /**
   * PostgreSQL under READ COMMITTED: while the table looks empty, concurrent creations take one
   * transaction-scoped advisory lock before inserting, so each sees the commits of those before it.
   * Once a user exists the role can only be USER, and no lock is needed.
   */
  async function insertFirstUser (input: NewUser, now: Date): Promise<User | null> {
    const existing = await db.selectFrom('lcauth_users').select('id').limit(1).executeTakeFirst()
    if (existing !== undefined) return insert(db, input, now)
    return db.transaction().execute(async trx => {
      await sql`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`.execute(trx)
      return insert(trx, input, now)
    })
  }

  return {
    async create (input, now) {
      if (input.role === undefined && ctx.dialect === 'postgres') return insertFirstUser(input, now)
      return insert(db, input, now)
    },
    async findById (id) {
      const row = await db.selectFrom('lcauth_users').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? null : toUser(row)
    },
    async findByEmail (email) {
      const row = await db.selectFrom('lcauth_users').selectAll().where('email', '=', email).executeTakeFirst()
      return row === undefined ? null : toUser(row)
    },
    async list ({ offset, limit }) {
      const rows = await db.selectFrom('lcauth_users').selectAll()
        .orderBy('created_at', 'asc').orderBy(ctx.insertionOrder, 'asc')
        .limit(limit).offset(offset)
        .execute()
      return rows.map(toUser)
    },
    async update (id, patch, now) {
      const row = await db.updateTable('lcauth_users')
        .set({ ...columns(patch, ctx), updated_at: time(now) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      return row === undefined ? null : toUser(row)
    },
    async delete (id, now) {
      // Sessions are revoked, not deleted: every instance's revocation mirror must still see them.
      // The revocation comes last: its mark (the revocation feed's order) is then never more than one
      // statement older than the commit that makes it visible (see revocation-feed.ts).
      return db.transaction().execute(async trx => {
        await trx.deleteFrom('lcauth_identities').where('user_id', '=', id).execute()
        await trx.deleteFrom('lcauth_one_time_tokens').where('user_id', '=', id).execute()
        await trx.deleteFrom('lcauth_users').where('id', '=', id).execute()
        const revoked = await trx.updateTable('lcauth_sessions')
          .set({ revoked_at: time(now) })
          .where('user_id', '=', id).where('revoked_at', 'is', null)
          .returning('id')
          .execute()
        return revoked.map(r => r.id)
      })
    }
  }
}

/** The columns a patch sets; keys it leaves out (or sets to undefined) are left alone. */
function columns (patch: UserPatch, ctx: SqlContext): Partial<UsersTable> {
  const set: Partial<UsersTable> = {}
  if (patch.name !== undefined) set.name = patch.name
  if (patch.username !== undefined) set.username = patch.username
  if (patch.avatar !== undefined) set.avatar = patch.avatar
  if (patch.role !== undefined) set.role = patch.role
  if (patch.emailVerified !== undefined) set.email_verified = ctx.flag(patch.emailVerified)
  if (patch.emailVerifiedBy !== undefined) set.email_verified_by = patch.emailVerifiedBy
  if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash
  if (patch.disabledAt !== undefined) set.disabled_at = patch.disabledAt === null ? null : ctx.time(patch.disabledAt)
  return set
}
