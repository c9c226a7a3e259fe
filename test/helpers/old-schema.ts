import type { Kysely } from 'kysely'
import { sqlContext, type SqlDialect } from '../../lib/adapters/sql/context.ts'
import type { Database } from '../../lib/adapters/sql/schema.ts'
import { at, email, unique } from '../conformance/types.ts'

/**
 * Inserts a user with only the columns of migration 0001 and returns its id: the storage writes the
 * columns later migrations add, so it cannot fill a schema that the tests stepped to an older migration.
 */
export async function insertOldUser (db: Kysely<Database>, dialect: SqlDialect, emailVerified = false): Promise<string> {
  const { flag, time } = sqlContext(db, dialect)
  const id = unique('old-user')
  await db.insertInto('lcauth_users').values({
    id,
    email: email(),
    name: 'Old User',
    username: null,
    avatar: null,
    provider: 'local',
    role: 'USER',
    email_verified: flag(emailVerified),
    password_hash: null,
    disabled_at: null,
    created_at: time(at(0)),
    updated_at: time(at(0))
  }).execute()
  return id
}
