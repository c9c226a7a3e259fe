import { resolve } from 'node:path'
import t from 'tap'
import { describeDatabase, sqliteFile } from '../../lib/cli/database.ts'

t.test('the database line names the file or the server, never the credentials', async t => {
  t.equal(sqliteFile('sqlite:data/librechat-auth.db'), resolve('data/librechat-auth.db'))
  t.equal(sqliteFile('sqlite:///var/lib/auth.db'), '/var/lib/auth.db')
  t.equal(sqliteFile('postgres://db/app'), null)
  t.equal(describeDatabase('sqlite:/var/lib/auth.db'), 'sqlite:/var/lib/auth.db')
  t.equal(describeDatabase('postgres://chat:s3cret@db.internal:5433/app?schema=auth'), 'postgres://db.internal:5433/app (schema auth)')
  t.equal(describeDatabase('postgresql://db.internal/app'), 'postgres://db.internal/app')
  t.equal(describeDatabase('postgres://[bad'), 'an unreadable DATABASE_URL')
})
