import { configError } from '../errors.ts'
import type { Storage } from '../ports/storage.ts'
import { loadDriver } from './load-driver.ts'

/** Where the example server and the CLI keep their data unless DATABASE_URL says otherwise. */
export const DEFAULT_DATABASE_URL = 'sqlite:data/librechat-auth.db'

/**
 * Opens the storage a URL names: `sqlite:path/to/file.db` (relative to the working directory, or
 * `sqlite:/absolute/path.db`) or `postgres://…` / `postgresql://…` (optionally `?schema=name`). The driver is loaded only for
 * the engine named, so a user of one never loads the other; a driver that is not installed is a
 * configuration error naming the option and the package. `timeoutMs` bounds PostgreSQL's waits (see
 * `PostgresStorageOptions.timeoutMs`). The storage still needs `init()`.
 */
export async function openStorage (url: string, options: { migrate?: boolean, option?: string, timeoutMs?: number } = {}): Promise<Storage> {
  const migrate = options.migrate ?? true
  const option = options.option ?? 'DATABASE_URL'
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (filename === '') throw configError(option, 'needs a file name: sqlite:path/to/file.db')
    return loadDriver('better-sqlite3', option, async () => (await import('./sql/sqlite.ts')).sqliteStorage({ filename, migrate }))
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // `?schema=name` keeps the tables in their own schema (created if missing); pg itself ignores it.
    const parsed = URL.canParse(url) ? new URL(url) : null
    if (parsed === null) throw configError(option, 'is not a valid postgres:// URL')
    const schema = parsed.searchParams.get('schema')
    parsed.searchParams.delete('schema')
    const connection = {
      connectionString: parsed.toString(),
      migrate,
      ...(schema === null ? {} : { schema }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
    }
    return loadDriver('pg', option, async () => (await import('./sql/postgres.ts')).postgresStorage(connection))
  }
  throw configError(option, 'must start with sqlite: or postgres://')
}
