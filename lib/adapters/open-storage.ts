import { configError } from '../errors.ts'
import type { Storage } from '../ports/storage.ts'

/** Where the example server and the CLI keep their data unless DATABASE_URL says otherwise. */
export const DEFAULT_DATABASE_URL = 'sqlite:data/librechat-auth.db'

/**
 * Opens the storage a URL names: `sqlite:path/to/file.db` (relative to the working directory, or
 * `sqlite:/absolute/path.db`) or `postgres://…` / `postgresql://…` (optionally `?schema=name`). The driver is loaded only for
 * the engine named, so a user of one never loads the other. The storage still needs `init()`.
 */
export async function openStorage (url: string, options: { migrate?: boolean, option?: string } = {}): Promise<Storage> {
  const migrate = options.migrate ?? true
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (filename === '') throw configError(options.option ?? 'DATABASE_URL', 'needs a file name: sqlite:path/to/file.db')
    const { sqliteStorage } = await import('./sql/sqlite.ts')
    return sqliteStorage({ filename, migrate })
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // `?schema=name` keeps the tables in their own schema (created if missing); pg itself ignores it.
    const parsed = URL.canParse(url) ? new URL(url) : null
    if (parsed === null) throw configError(options.option ?? 'DATABASE_URL', 'is not a valid postgres:// URL')
    const schema = parsed.searchParams.get('schema')
    parsed.searchParams.delete('schema')
    const { postgresStorage } = await import('./sql/postgres.ts')
    return postgresStorage({ connectionString: parsed.toString(), migrate, ...(schema === null ? {} : { schema }) })
  }
  throw configError(options.option ?? 'DATABASE_URL', 'must start with sqlite: or postgres://')
}
