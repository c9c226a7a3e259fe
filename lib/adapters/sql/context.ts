import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database, Flag, Timestamp } from './schema.ts'

export type SqlDialect = 'sqlite' | 'postgres'

/** What every repository of the SQL storage shares: the database and the dialect's value forms. */
export interface SqlContext {
  db: Kysely<Database>
  dialect: SqlDialect
  /** A Date as the dialect binds it: the Date itself on PostgreSQL, epoch milliseconds on SQLite. */
  time: (date: Date) => Timestamp
  /** A boolean as the dialect binds it: itself on PostgreSQL, 0/1 on SQLite (better-sqlite3 binds neither Dates nor booleans). */
  flag: (value: boolean) => Flag
  /** The hidden column in insertion order, to break ties between equal times: `rowid` on SQLite, `seq` on PostgreSQL. */
  insertionOrder: RawBuilder<unknown>
}

export function sqlContext (db: Kysely<Database>, dialect: SqlDialect): SqlContext {
  if (dialect === 'sqlite') {
    return { db, dialect, time: date => date.getTime(), flag: value => (value ? 1 : 0), insertionOrder: sql`rowid` }
  }
  // pg serialises a Date only when the query is sent, after an await: bind a copy the caller cannot change meanwhile.
  return { db, dialect, time: date => new Date(date), flag: value => value, insertionOrder: sql`seq` }
}
