import { resolve } from 'node:path'

/** The SQLite file a storage URL names (absolute), or null for another kind of database. */
export function sqliteFile (url: string): string | null {
  if (!url.startsWith('sqlite:')) return null
  return resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''))
}

/**
 * The database a storage URL names, as an operator reads it: the SQLite file's absolute path, or
 * PostgreSQL's host, port and database (and schema). Never the user name or the password.
 */
export function describeDatabase (url: string): string {
  const file = sqliteFile(url)
  if (file !== null) return `sqlite:${file}`
  if (!URL.canParse(url)) return 'an unreadable DATABASE_URL'
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema')
  return `postgres://${parsed.host}${parsed.pathname}${schema === null ? '' : ` (schema ${schema})`}`
}
